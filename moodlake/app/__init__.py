"""The top layer: the CLI, the pipeline wiring and console output.

The only place that imports typer or rich, prints, or turns exceptions into exit codes."""
