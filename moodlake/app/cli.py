"""`moodlake`: the one entry point. Make targets call these commands.

Commands import their implementation lazily so `moodlake --help` stays fast and a command only
starts Spark (≈7-10 s of JVM start) when it needs it. Our own errors (``MoodlakeError``) become a
one-line message and an exit code here, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from moodlake.app.console import make_console
from moodlake.core.errors import MoodlakeError
from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings, load_settings

app = typer.Typer(help="Moodlake: a local-first lakehouse for your Spotify listening.", no_args_is_help=True)
ingest_app = typer.Typer(help="Land raw data in Bronze Delta tables (idempotent).", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
console = make_console()

UserOpt = Annotated[str | None, typer.Option("--user", help="listener id (default: derived from the file)")]


def _settings() -> Settings:
    return load_settings()


@app.command()
def setup() -> None:
    """Fetch what the runtime needs once (Delta jars via mvn; hadoop-aws for an s3a:// warehouse) and check the JDK."""
    from moodlake.core.jars import fetch_delta_jars, fetch_s3a_jars
    from moodlake.core.java import spark_java_home

    settings = _settings()
    settings.ensure_dirs()
    jars = fetch_delta_jars(settings.cache_dir)
    console.print(f"Java for Spark: {spark_java_home()}")
    console.print(f"Delta jars: {len(jars)} in {jars[0].parent}")
    if settings.uses_s3a:
        s3a = fetch_s3a_jars(settings.cache_dir)
        console.print(f"s3a jars (hadoop-aws + AWS SDK): {len(s3a)} in {s3a[0].parent}")


@ingest_app.command("catalog")
def ingest_catalog(
    path: Annotated[
        list[Path], typer.Argument(help="catalog files (.csv, .csv.gz, .parquet) or folders of files sharing one header")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="catalog name of every row (default: from the layout, else the file/folder name)")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="OURS=THEIRS: which of the file's columns holds our field (repeatable)"),
    ] = None,
) -> None:
    """Land track catalogs (Kaggle 114k, TidyTuesday, 2024 genre pull, or any layout with --map) in bronze.catalog_tracks."""
    from ingestion.catalog import land_sources, resolve_sources
    from moodlake.app.console import print_land_results
    from moodlake.core.spark import get_spark

    settings = _settings()
    sources = resolve_sources(path, name=name, mapping=map_ or [])  # layout errors come before Spark starts
    results = land_sources(get_spark(settings), sources)
    print_land_results(console, results)
    catalogs = sorted({(s.catalog_name, s.layout.name) for s in sources})
    console.print("catalog: " + ", ".join(f"{c} (layout {layout})" for c, layout in catalogs))
    console.print(
        f"{sum(r.input_records for r in results):,} rows: {sum(r.inserted for r in results):,} new in Bronze, "
        f"{sum(r.already_present for r in results):,} already present, "
        f"{sum(r.quarantined for r in results):,} quarantined (see bronze.quarantine)"
    )


@ingest_app.command("history")
def ingest_history(
    path: Annotated[list[Path], typer.Argument(help="export files, folders or the export .zip")],
    user: UserOpt = None,
    timezone: Annotated[str | None, typer.Option(help="listener's IANA time zone")] = None,
) -> None:
    """Land Spotify privacy-export listening history (account data or extended history)."""
    from ingestion.history import load_history
    from moodlake.analytics.silver import silver_summary
    from moodlake.app.console import print_outcome, print_silver_summary
    from moodlake.core.spark import get_spark

    settings = _settings()
    spark = get_spark(settings)
    outcome = load_history(spark, settings, path, user=user, timezone=timezone)
    print_outcome(console, outcome)
    print_silver_summary(console, silver_summary(spark, sorted(outcome.users)))
    if outcome.failures:
        raise typer.Exit(1)


@ingest_app.command("api")
def ingest_api(user: UserOpt = None) -> None:
    """Poll recently-played through the Spotify Web API (OAuth via spotipy) into Bronze."""
    from ingestion.api import poll_recently_played
    from moodlake.core.spark import get_spark

    settings = _settings()
    spark = get_spark(settings)
    _show_api_outcome(spark, poll_recently_played(spark, settings, user=user))


@ingest_app.command("api-responses")
def ingest_api_responses(
    path: Annotated[list[Path], typer.Argument(help="saved recently-played JSON responses")],
    user: UserOpt = None,
) -> None:
    """Land saved raw recently-played responses through the same path as live polling."""
    from ingestion.api import ingest_saved_responses
    from moodlake.core.errors import IngestFailed
    from moodlake.core.spark import get_spark

    settings = _settings()
    spark = get_spark(settings)
    try:
        _show_api_outcome(spark, ingest_saved_responses(spark, settings, path, user=user))
    except IngestFailed as exc:
        _show_api_outcome(spark, exc.outcome)
        raise typer.Exit(1) from exc


def _show_api_outcome(spark: object, outcome: object) -> None:
    from moodlake.analytics.silver import silver_summary
    from moodlake.app.console import print_api_extras, print_outcome, print_silver_summary

    print_outcome(console, outcome)
    print_api_extras(console, outcome)
    print_silver_summary(console, silver_summary(spark, sorted(outcome.users)))  # type: ignore[attr-defined]


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def transform(ctx: typer.Context) -> None:
    """`dbt build` (or any dbt command: `moodlake transform run -s fct_plays`) in the shared session."""
    import time

    from ingestion.catalog import has_catalog, ingest_bundled_catalogs
    from moodlake.analytics.silver import silver_summary
    from moodlake.app.console import dbt_progress, print_dbt_outcome, print_land_results, print_silver_summary
    from moodlake.core.dbt import invoke_dbt
    from moodlake.core.logs import stderr_to_log
    from moodlake.core.spark import get_spark

    settings = _settings()
    args = list(ctx.args) or ["build"]
    label = f"dbt {args[0]}"
    with stderr_to_log():
        spark = get_spark(settings)
    if args[0] in ("build", "run") and not has_catalog(spark):
        # a home with only a listening history: the bundled catalogs load on first use, so Gold builds
        console.print("No track catalog in this home yet: loading the bundled catalogs (TidyTuesday, Kaggle 114k).")
        print_land_results(console, ingest_bundled_catalogs(spark))
    t0 = time.perf_counter()
    with stderr_to_log(), dbt_progress(console, label) as on_progress:
        outcome = invoke_dbt(settings, args, progress=on_progress)
    print_dbt_outcome(console, label, outcome, time.perf_counter() - t0)
    if outcome.success and args[0] in ("build", "run"):
        print_silver_summary(console, silver_summary(spark))
    raise typer.Exit(0 if outcome.success else 1)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Every table with layer, row count, Delta version and location; catalog coverage."""
    from moodlake.analytics.status import collect_status
    from moodlake.app.console import print_status
    from moodlake.core.spark import get_spark

    settings = _settings()
    data = collect_status(get_spark(settings))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        print_status(console, data)


@app.command()
def coverage(
    user: Annotated[str | None, typer.Option("--user", help="only this listener")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Per listener: plays and minutes per match level (track id, artist + title, artist, unknown), by year,
    and the artists and tracks the catalogs miss most."""
    from moodlake.analytics.coverage import coverage as listener_coverage
    from moodlake.app.coverage import print_coverage
    from moodlake.core.spark import get_spark

    listeners = listener_coverage(get_spark(_settings()), user=user)
    if as_json:
        typer.echo(json.dumps(listeners, indent=2, ensure_ascii=False))
    else:
        print_coverage(console, listeners)


@app.command("history")
def table_history(
    table: Annotated[str, typer.Argument(help="a Delta table, e.g. bronze.spotify_extended_history")],
    limit: Annotated[int, typer.Option(help="newest N versions")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """A table's Delta versions, newest first: when, what operation, how many rows it wrote."""
    from dataclasses import asdict

    from moodlake.app.console import print_table_history
    from moodlake.core.logs import stderr_to_log
    from moodlake.core.spark import get_spark
    from moodlake.core.timetravel import table_history as history_of

    with stderr_to_log():
        spark = get_spark(_settings())
    versions = history_of(spark, table, limit=limit)
    if as_json:
        typer.echo(json.dumps([asdict(v) for v in versions], indent=2))
    else:
        print_table_history(console, table, versions)


@app.command()
def restore(
    table: Annotated[str, typer.Argument(help="a Delta table, e.g. bronze.spotify_extended_history")],
    version: Annotated[int | None, typer.Option("--version", help="the version to go back to (see `moodlake history`)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="the version current at this UTC time (2026-12-01T14:30)")] = None,
) -> None:
    """Undo a bad load: restore a table to an earlier version; the next build rebuilds Silver and Gold from scratch."""
    from moodlake.core.logs import stderr_to_log
    from moodlake.core.spark import get_spark
    from moodlake.core.timetravel import restore_table

    settings = _settings()
    with stderr_to_log():
        spark = get_spark(settings)
    result = restore_table(spark, settings, table, version=version, as_of=as_of)
    console.print(f"Restored {result.table} to version {result.restored_to} (as new version {result.new_version}; "
                  f"{result.files_removed} files set aside, {result.files_restored} brought back).")
    console.print(f"Undo with `moodlake restore {result.table} --version {result.new_version - 1}`. "
                  "The next `moodlake transform` or `moodlake run` rebuilds Silver and Gold in full.")


@app.command()
def run(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="use the bundled demo data")] = True,
) -> None:
    """The whole pipeline: ingest, dbt build, then the later stages; writes summary.json."""
    from moodlake.app.pipeline import run_pipeline

    settings = _settings()
    ok = run_pipeline(settings, demo=demo, console=console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def train(user: Annotated[str | None, typer.Option("--user", help="only this listener (default: all)")] = None) -> None:
    """Train listening modes, preference, mood and SHAP on Gold; log to MLflow; write gold.ml_*."""
    from ml.pipeline import train as train_models
    from moodlake.core.spark import get_spark

    settings = _settings()
    out = train_models(get_spark(settings), settings, user=user, log=console.print)
    for sentences in out.insights.values():
        for sentence in sentences:
            console.print(f"  {sentence}")


@app.command()
def mlflow(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 5000) -> None:
    """MLflow UI on 127.0.0.1 over the runs and registered models in $MOODLAKE_HOME/mlflow."""
    from ml.tracking import serve_ui

    settings = _settings()
    console.print(f"MLflow UI: http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(serve_ui(settings, port))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="folder for the generated demo exports")] = REPO_ROOT / ".moodlake" / "demo",
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
) -> None:
    """Generate the deterministic DEMO listening histories (not a real person's data)."""
    from ingestion.demo import generate_demo

    files = generate_demo(out, seed=seed)
    console.print(f"DEMO data: {len(files)} files in {out}")


@app.command()
def serve() -> None:
    """Start Trino (delta catalog over the warehouse) and Superset on 127.0.0.1; print the URLs."""
    from moodlake.app.serving import serve_stack

    serve_stack(_settings(), console)


@app.command()
def stop() -> None:
    """Stop the Trino and Superset servers that `moodlake serve` started."""
    from moodlake.app.serving import stop_stack

    stop_stack(_settings(), console)


@app.command()
def recommend(
    user: Annotated[str | None, typer.Option("--user", help="listener id (default: the first listener)")] = None,
    mode: Annotated[str, typer.Option(help="mirror | coach | discovery | world")] = "mirror",
    n: Annotated[int, typer.Option("--n", min=1, max=100, help="tracks in the list")] = 20,
    context: Annotated[str, typer.Option(help='now | morning | evening | "monday morning" ...')] = "now",
    new_artists_only: Annotated[bool, typer.Option("--new-artists-only", help="only artists never played")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Mood-aware recommendations (mirror or coach) with two scores and a reason; writes gold.ml_recommendations."""
    from moodlake.app.recommend import run_recommend

    try:
        run_recommend(_settings(), console, user, mode, n, context, new_artists_only, as_json)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def explain(
    track_id: Annotated[str, typer.Argument(help="catalog track id")],
    user: Annotated[str | None, typer.Option("--user", help="listener id (default: the first listener)")] = None,
    mode: Annotated[str, typer.Option(help="mirror | coach: which policy sentence")] = "mirror",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Why a track fits (or not): both scores, the policy's sentence and the preference model's SHAP values."""
    from moodlake.app.recommend import run_explain

    try:
        run_explain(_settings(), console, track_id, user, mode, as_json)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def insights() -> None:
    """Descriptive and diagnostic insight sentences (with their numbers) from the Gold marts."""
    from moodlake.analytics.insights import build_insights, load_gold
    from moodlake.core.spark import get_spark

    found = build_insights(load_gold(get_spark(_settings())), demo=False)
    for kind, sentences in found.items():
        for sentence in sentences:
            console.print(f"[bold]{kind}[/bold]  {sentence}", highlight=False)


@app.command()
def docs(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8081,
    generate: Annotated[bool, typer.Option("--generate/--no-generate", help="run `dbt docs generate` first")] = True,
) -> None:
    """Build the dbt docs site (lineage, every model and column) and serve it on 127.0.0.1."""
    from moodlake.serve.docs import generate_docs, make_server

    settings = _settings()
    folder = generate_docs(settings) if generate else settings.dbt_target_dir
    server = make_server(folder, port)
    console.print(f"dbt docs: http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main() -> None:
    """Run the CLI; our own errors print one line (no traceback) and exit with their code.

    Logging (Spark's JVM, libraries, warnings, tracebacks) goes to ``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log``.
    """
    from moodlake.core.logs import configure_logging

    try:
        app_settings = load_settings()
    except Exception:  # invalid settings: the command itself reports them
        app_settings = None
    if app_settings is not None:
        configure_logging(app_settings)
    from moodlake.core import homelock

    homelock.on_wait(lambda message: make_console(stderr=True).print(f"{message} …"))
    try:
        app()
    except MoodlakeError as exc:
        from rich.markup import escape  # messages may quote logs and paths with "[...]" in them

        make_console(stderr=True).print(f"[red]{escape(str(exc))}[/red]")
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
