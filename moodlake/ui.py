"""Terminal output shared by commands: tables of what a step did."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from ingestion.bronze import LandResult


def print_land_results(console: Console, results: Iterable[LandResult]) -> None:
    """One row per landed file: input = inserted + already present + quarantined + skipped."""
    table = Table(title="Bronze landing")
    for col in ("file", "table", "input", "inserted", "already present", "quarantined", "skipped"):
        table.add_column(col, justify="left" if col in ("file", "table") else "right")
    for r in results:
        skipped = ", ".join(f"{k}: {v}" for k, v in r.skipped.items()) or "0"
        table.add_row(
            r.source_file.rsplit("/", 1)[-1], r.table, str(r.input_records), str(r.inserted),
            str(r.already_present), str(r.quarantined), skipped,
        )
    console.print(table)
