"""`moodlake run`: every stage in order in one process and one Spark session, then summary.json.

A stage is a function ``(ctx) -> dict`` returning counts for the summary; it may add ``metrics``
and ``insights`` to ``ctx.summary``. Stages are listed in ``STAGES`` once they are real.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from moodlake.settings import REPO_ROOT, Settings

DEMO_CATALOG = REPO_ROOT / "data" / "catalog" / "spotify_songs.csv.gz"


@dataclass
class RunContext:
    """What stages share: settings, the Spark session, the console and the growing summary."""

    settings: Settings
    spark: Any
    console: Console
    demo: bool
    summary: dict[str, Any] = field(default_factory=dict)


def stage_ingest(ctx: RunContext) -> dict[str, Any]:
    """Land the bundled catalog and the generated DEMO listening histories in Bronze."""
    from ingestion.catalog import ingest_catalog_files
    from ingestion.demo import generate_demo
    from ingestion.history import ingest_history_paths
    from moodlake.ui import print_land_results

    results = ingest_catalog_files(ctx.spark, [DEMO_CATALOG])
    demo_dir = ctx.settings.home / "demo"
    generate_demo(demo_dir, seed=42)
    listeners = json.loads((demo_dir / "listeners.json").read_text())
    for listener in listeners:
        results += ingest_history_paths(
            ctx.spark, ctx.settings, [demo_dir / listener["user_id"]],
            user=listener["user_id"], timezone=listener["timezone"], console=None,
        )
    print_land_results(ctx.console, results)
    return {
        "files": len(results),
        "input_records": sum(r.input_records for r in results),
        "inserted": sum(r.inserted for r in results),
        "already_present": sum(r.already_present for r in results),
        "quarantined": sum(r.quarantined for r in results),
        # kept out on purpose (e.g. video plays); input = inserted + present + quarantined + skipped
        "skipped": sum(sum(r.skipped.values()) for r in results),
        "listeners": len(listeners),
    }


def stage_transform(ctx: RunContext) -> dict[str, Any]:
    """dbt build: seeds, Silver and Gold models, snapshots and all data/unit tests.

    Then the Silver play counts, drop reasons and catalog coverage per listener go to the console
    and to ``summary.json`` (``silver``), so nothing dropped on the way is silent.
    """
    from ingestion.history import print_silver_summary, silver_summary
    from moodlake.transform import invoke_dbt

    outcome = invoke_dbt(ctx.settings, ["build"])
    if not outcome.success:
        failed = [k for k, v in outcome.statuses.items() if v not in ("success", "pass")]
        raise RuntimeError(f"dbt build failed: {outcome.error or ', '.join(failed[:10])}")
    ctx.summary["silver"] = silver_summary(ctx.spark)
    print_silver_summary(ctx.spark, ctx.console, data=ctx.summary["silver"])
    return {"nodes": len(outcome.statuses)}


# name -> "module:function" (or a callable); later issues append real stages here
STAGES: list[tuple[str, str | Callable[[RunContext], dict[str, Any]]]] = [
    ("ingest", stage_ingest),
    ("transform", stage_transform),
    ("insights", "moodlake.insights:insights_stage"),
    ("train", "ml.pipeline:train_stage"),
    ("recommend", "ml.recommend:recommend_stage"),
    ("report", "moodlake.report:report_stage"),
]


def _resolve(target: str | Callable[[RunContext], dict[str, Any]]) -> Callable[[RunContext], dict[str, Any]]:
    if callable(target):
        return target
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def table_counts(spark: Any) -> dict[str, int]:
    from moodlake.status import delta_tables

    return {f"{s}.{t}": spark.table(f"{s}.{t}").count() for s, t in delta_tables(spark)}


def label_demo_insights(summary: dict[str, Any], demo_users: set[str]) -> None:
    """Start every sentence about a demo listener with "DEMO ·", whichever stage wrote it, so no
    insight about synthetic data can be read as a person's."""
    for kind, sentences in summary.get("insights", {}).items():
        labelled = []
        for sentence in sentences:
            about_demo = any(sentence.startswith((f"{u}:", f"{u} ")) for u in demo_users)
            labelled.append(f"DEMO · {sentence}" if about_demo else sentence)
        summary["insights"][kind] = labelled


def write_summary(settings: Settings, summary: dict[str, Any]) -> Path:
    out = settings.reports_dir / "latest"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str))
    return path


def run_pipeline(settings: Settings, demo: bool, console: Console) -> bool:
    """Run every stage; on failure still write summary.json with what finished, then report."""
    from moodlake.spark import get_spark

    started = datetime.now(UTC)
    summary: dict[str, Any] = {"started_at": started.isoformat(), "demo": demo, "stages": {}, "tables": {}}
    ok = True
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:
        task = progress.add_task("starting Spark", total=len(STAGES) + 1)
        t0 = time.perf_counter()
        spark = get_spark(settings)
        summary["stages"]["spark_start"] = {"seconds": round(time.perf_counter() - t0, 2)}
        progress.advance(task)
        ctx = RunContext(settings=settings, spark=spark, console=console, demo=demo, summary=summary)
        demo_users: set[str] | None = None  # known once ingest has run; read once, when insights appear
        for name, target in STAGES:
            progress.update(task, description=f"{name}")
            t0 = time.perf_counter()
            try:
                info = _resolve(target)(ctx)
            except Exception as exc:
                console.print(f"[red]stage {name} failed:[/red] {exc}")
                summary["stages"][name] = {"seconds": round(time.perf_counter() - t0, 2), "error": str(exc)[:2000]}
                ok = False
                break
            summary["stages"][name] = {"seconds": round(time.perf_counter() - t0, 2), **info}
            if summary.get("insights"):  # before the report stage renders them
                if demo_users is None:
                    from moodlake.insights import demo_listeners

                    demo_users = demo_listeners(spark)
                label_demo_insights(summary, demo_users)
            progress.advance(task)
    summary["tables"] = table_counts(spark)
    summary["finished_at"] = datetime.now(UTC).isoformat()
    path = write_summary(settings, summary)
    print_run_summary(console, summary, path)
    return ok


def print_run_summary(console: Console, summary: dict[str, Any], path: Path) -> None:
    label = " (DEMO data)" if summary.get("demo") else ""
    console.rule(f"Moodlake run{label}")
    for name, stage in summary["stages"].items():
        extra = ", ".join(f"{k}={v}" for k, v in stage.items() if k not in ("seconds", "error"))
        status = f"[red]FAILED[/red] {stage['error'][:200]}" if "error" in stage else "ok"
        console.print(f"  {name:<12} {stage['seconds']:>7.1f} s  {status}  {extra}")
    layers: dict[str, int] = {}
    for name, rows in summary["tables"].items():
        layers[name.split(".")[0]] = layers.get(name.split(".")[0], 0) + rows
    console.print("  rows by schema: " + ", ".join(f"{k} {v:,}" for k, v in sorted(layers.items())))
    for kind, sentences in summary.get("insights", {}).items():
        for sentence in sentences[:3]:
            console.print(f"  [{kind}] {sentence}")
    console.print(f"  summary: {path}")
