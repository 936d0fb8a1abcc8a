"""Everything Moodlake shows on the terminal: one console, and the tables of what a step did.

The console writes plain text when output is not a terminal (piped or redirected): no colour or other
escape codes, and a wide line so tables keep one row per line instead of folding words into 80 columns.
On a terminal, tables wrap long cells (``overflow="fold"``) instead of cutting them off with "…".
Progress bars and spinners only animate on a terminal; piped output gets one summary line instead.

Diagnostics (Spark/JVM logs, library warnings, tracebacks) never come here: they go to the log file
named by :func:`moodlake.core.logs.log_path`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingestion.bronze import LandResult
from moodlake.core.dbt import DbtOutcome, DbtProgress

#: Line width used when stdout is not a terminal: wide enough that tables never fold a cell.
PIPE_WIDTH = 400


def make_console(stderr: bool = False) -> Console:
    """A terminal console, or a plain wide one when the stream is piped, redirected or captured."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, force_terminal=False, no_color=True, color_system=None, width=PIPE_WIDTH,
                   soft_wrap=True, highlight=False, emoji=False)


def recording_console(width: int = PIPE_WIDTH) -> Console:
    """A console that keeps what it printed (``export_text()``), plain and wide: for tests and reports."""
    return Console(record=True, width=width, force_terminal=False, no_color=True, color_system=None,
                   highlight=False, emoji=False)


def make_progress(console: Console, transient: bool = False) -> Progress:
    """Spinner, description, bar and elapsed time on a terminal; disabled (prints nothing) otherwise."""
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=console, transient=transient, disable=not console.is_interactive)


@contextlib.contextmanager
def dbt_progress(console: Console, label: str, progress: Progress | None = None) -> Iterator[Callable[[DbtProgress], None]]:
    """A progress line "dbt build 123/386 · model fct_plays" fed by ``invoke_dbt(..., progress=...)``.

    Adds a task to ``progress`` (e.g. the pipeline's stage bar) or shows its own transient one; the
    task is removed at the end so only the caller's summary line stays.
    """
    own = progress is None
    bar = make_progress(console, transient=True) if progress is None else progress
    task = bar.add_task(label, total=None)

    def update(p: DbtProgress) -> None:
        node = f" · {p.resource_type} {p.name}" if p.status == "started" else ""
        count = f" {p.done}/{p.total}" if p.total else ""
        bar.update(task, total=p.total or None, completed=p.done, description=escape(f"{label}{count}{node}"))

    try:
        if own:
            bar.start()
        yield update
    finally:
        bar.remove_task(task)
        if own:
            bar.stop()


def print_dbt_outcome(console: Console, label: str, outcome: DbtOutcome, seconds: float) -> None:
    """One line with the node counts, then every failed node with dbt's message, then warnings."""
    counts = outcome.counts()
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    mark = "[green]✓[/green]" if outcome.success else "[red]✗[/red]"
    if outcome.forced_full_refresh:
        console.print(f"  full refresh, because tables were {escape(outcome.forced_full_refresh)}")
    if outcome.statuses:
        console.print(f"{mark} {escape(label)}: {len(outcome.statuses)} nodes in {seconds:.0f} s ({parts})")
    else:
        console.print(f"{mark} {escape(label)} {'done' if outcome.success else 'failed'} in {seconds:.0f} s")
    for failure in outcome.failures:
        console.print(f"  [red]{failure.status.upper()}[/red] {escape(failure.unique_id)}")
        for line in failure.message.splitlines()[:20]:
            console.print(f"    {escape(line)}")
    for warning in outcome.warnings:
        console.print(f"  [yellow]warning[/yellow] {escape(warning.unique_id)}: {escape(warning.message.splitlines()[0])}")
    if outcome.error:
        console.print(f"  [red]dbt error:[/red] {escape(outcome.error)}")


def print_table_history(console: Console, name: str, versions: Iterable[Any]) -> None:
    """`moodlake history`: one row per Delta version, newest first."""
    table = Table(title=f"{name}: Delta versions (newest first; times in UTC)")
    for col in ("version", "time", "operation", "rows written", "parameters"):
        table.add_column(col, overflow="fold", justify="right" if col in ("version", "rows written") else "left")
    for v in versions:
        rows = "" if v.rows_written is None else f"{v.rows_written:,}"
        table.add_row(str(v.version), v.timestamp, escape(v.operation), rows, escape(v.parameters))
    console.print(table)


def print_land_results(console: Console, results: Iterable[LandResult]) -> None:
    """One row per landed file: input = inserted + already present + quarantined + skipped."""
    table = Table(title="Bronze landing")
    for col in ("file", "table", "input", "inserted", "already present", "quarantined", "skipped"):
        table.add_column(col, overflow="fold", justify="left" if col in ("file", "table") else "right")
    for r in results:
        skipped = ", ".join(f"{k}: {v}" for k, v in r.skipped.items()) or "0"
        table.add_row(
            r.source_file.rsplit("/", 1)[-1], r.table, str(r.input_records), str(r.inserted),
            str(r.already_present), str(r.quarantined), skipped,
        )
    console.print(table)


def print_outcome(console: Console, outcome: Any) -> None:
    """Per-file results of a history or API-response load, then what was ignored and what failed."""
    if outcome.results:
        print_land_results(console, outcome.results)
        total = sum(r.input_records for r in outcome.results)
        inserted = sum(r.inserted for r in outcome.results)
        console.print(
            f"{len(outcome.results)} file(s), {total:,} records: {inserted:,} new in Bronze, "
            f"{sum(r.already_present for r in outcome.results):,} already present, "
            f"{sum(r.quarantined for r in outcome.results):,} quarantined, "
            f"{sum(sum(r.skipped.values()) for r in outcome.results):,} skipped; "
            f"listeners: {', '.join(sorted(outcome.users)) or '-'}"
        )
    for name, reason in getattr(outcome, "ignored", []):
        console.print(f"[yellow]ignored[/yellow] {name}: {reason}")
    if outcome.failures:
        console.print(f"[red]{len(outcome.failures)} file(s) not loaded (nothing of them was written):[/red]")
        for name, reason in outcome.failures:
            console.print(f"  [red]✗[/red] {name}: {reason}")


def print_api_extras(console: Console, outcome: Any) -> None:
    """The poll's watermark and the audio-feature lookups, after the per-file table."""
    from datetime import UTC, datetime

    if outcome.watermark_ms is not None:
        stamp = datetime.fromtimestamp(outcome.watermark_ms / 1000, UTC).isoformat()
        console.print(f"watermark (after) now {outcome.watermark_ms} = {stamp}")
    if outcome.features:
        console.print("audio-features lookups: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.features.items())))


def print_silver_summary(console: Console, data: dict[str, Any]) -> None:
    """Coverage per listener as of the last `moodlake transform` (Silver is rebuilt by dbt, not here)."""
    if not data.get("plays"):
        console.print("Silver not built for these listeners yet: run `moodlake transform` to deduplicate and match plays.")
        return
    table = Table(title="Silver plays (as of the last `moodlake transform`)")
    for col in ("listener", "source", "plays", "short (<30 s)", "with audio features", "share of plays", "share of minutes"):
        table.add_column(col, overflow="fold", justify="left" if col in ("listener", "source") else "right")
    for r in data["plays"]:
        table.add_row(
            r["user_id"], r["source"], f"{r['plays']:,}", f"{r['short_plays']:,}", f"{r['with_features']:,}",
            f"{r['with_features'] / max(r['plays'], 1):.1%}", f"{(r['ms_with_features'] or 0) / max(r['ms_total'] or 0, 1):.1%}",
        )
    console.print(table)
    if data.get("drops"):
        drops = Table(title="Rows dropped by deduplication")
        for col in ("listener", "source", "reason", "rows"):
            drops.add_column(col, overflow="fold", justify="right" if col == "rows" else "left")
        for r in data["drops"]:
            drops.add_row(r["user_id"], r["source"], r["reason"], f"{r['dropped_rows']:,}")
        console.print(drops)


def print_status(console: Console, data: dict[str, Any]) -> None:
    table = Table(title="Moodlake tables")
    for col in ("table", "layer", "rows", "version", "location"):
        table.add_column(col, overflow="fold", justify="right" if col in ("rows", "version") else "left")
    for t in data["tables"]:
        table.add_row(t["name"], t["layer"], f"{t['rows']:,}", str(t["version"]), t["location"])
    console.print(table)
    if data.get("coverage"):
        cov = Table(title="Catalog coverage (plays with audio features)")
        for col in ("listener", "plays", "share of plays", "share of minutes"):
            cov.add_column(col, overflow="fold")
        for user, c in data["coverage"].items():
            cov.add_row(user, f"{c['plays']:,}", f"{c['matched_play_share']:.1%}", f"{c['matched_minute_share']:.1%}")
        console.print(cov)
