"""`moodlake run`: every stage in order, in one process and one Spark session, then summary.json.

The stages are listed explicitly in :data:`STAGES`: each names what it reads and what it writes (shown
by ``moodlake run --help`` and in docs/ARCHITECTURE.md) and is a plain function of the typed
:class:`RunState`. Stage bodies call the lower layers (ingestion, dbt, analytics, ml), which return
results; only this module and the console print them.

The terminal gets tables, a progress line per stage (dbt's nodes included) and one line per failure;
Spark's and the libraries' logs and the traceback of a failed stage go to the log file
``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log`` (:func:`moodlake.core.logs.log_path`), which the
last line of the run names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.rule import Rule

from moodlake.core.errors import StageFailed
from moodlake.core.logs import log_exception, log_path, stderr_to_log
from moodlake.core.settings import Settings

#: What a run's summary holds; the JSON shape is ../shared/contracts/summary.schema.json.
Summary = dict[str, Any]


@dataclass
class RunState:
    """What stages share: settings, the Spark session, the console and the growing summary."""

    settings: Settings
    spark: SparkSession
    console: Console
    demo: bool
    summary: Summary = field(default_factory=dict)
    #: the run's progress display; stages may add their own task to it (dbt's node count)
    progress: Progress | None = None


@dataclass(frozen=True)
class Stage:
    """One step of `moodlake run`: a name, the tables/files it reads and writes, and its body.

    ``run`` returns the stage's counts for ``summary["stages"][name]``; it may add metrics and
    insight sentences to the summary.
    """

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    run: Callable[[RunState], dict[str, Any]]


def ensure_catalog(state: RunState) -> list[Any]:
    """A home that holds only a listening history gets the bundled catalogs on first use, so Silver and
    Gold always build (with every play 'unknown' only if a catalog really has nothing for them)."""
    from ingestion.catalog import has_catalog, ingest_bundled_catalogs
    from moodlake.app.console import print_land_results

    if has_catalog(state.spark):
        return []
    state.console.print("No track catalog in this home yet: loading the bundled catalogs (TidyTuesday, Kaggle 114k).")
    results = ingest_bundled_catalogs(state.spark)
    print_land_results(state.console, results)
    return results


def ingest(state: RunState) -> dict[str, Any]:
    """Land the bundled catalogs (TidyTuesday, Kaggle 114k) and, with --demo, the generated DEMO listening
    histories in Bronze; without --demo only what a home lacks (the catalogs on first use)."""
    from ingestion.catalog import ingest_bundled_catalogs
    from ingestion.demo import generate_demo
    from ingestion.history import ingest_history_paths
    from moodlake.app.console import print_land_results

    if not state.demo:
        results = ensure_catalog(state)
        return {"files": len(results), "input_records": sum(r.input_records for r in results),
                "inserted": sum(r.inserted for r in results), "already_present": sum(r.already_present for r in results),
                "quarantined": sum(r.quarantined for r in results), "skipped": 0, "listeners": 0}
    results = ingest_bundled_catalogs(state.spark)
    demo_dir = state.settings.home / "demo"
    generate_demo(demo_dir, seed=42)
    listeners = json.loads((demo_dir / "listeners.json").read_text())
    for listener in listeners:
        results += ingest_history_paths(
            state.spark, state.settings, [demo_dir / listener["user_id"]],
            user=listener["user_id"], timezone=listener["timezone"],
        )
    print_land_results(state.console, results)
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


def transform(state: RunState) -> dict[str, Any]:
    """dbt build: seeds, Silver and Gold models, snapshots and all data/unit tests.

    Then the Silver play counts, drop reasons and catalog coverage per listener go to the console
    and to ``summary.json`` (``silver``), so nothing dropped on the way is silent.
    """
    from moodlake.analytics.coverage import coverage
    from moodlake.analytics.silver import silver_summary
    from moodlake.app.console import dbt_progress, print_dbt_outcome, print_silver_summary
    from moodlake.app.coverage import print_coverage
    from moodlake.core.dbt import invoke_dbt

    ensure_catalog(state)
    t0 = time.perf_counter()
    with dbt_progress(state.console, "dbt build", state.progress) as on_progress:
        outcome = invoke_dbt(state.settings, ["build"], progress=on_progress)
    print_dbt_outcome(state.console, "dbt build", outcome, time.perf_counter() - t0)
    if not outcome.success:
        failed = [f"{f.unique_id} ({f.status})" for f in outcome.failures]
        raise StageFailed(f"dbt build failed: {outcome.error or ', '.join(failed[:10]) or 'see dbt.log'}")
    state.summary["silver"] = silver_summary(state.spark)
    print_silver_summary(state.console, state.summary["silver"])
    state.summary["coverage"] = coverage(state.spark)
    print_coverage(state.console, state.summary["coverage"], top=5)
    return {"nodes": len(outcome.statuses)}


def insights(state: RunState) -> dict[str, Any]:
    """Descriptive and diagnostic sentences from the Gold marts into ``summary["insights"]``."""
    from moodlake.analytics.insights import build_insights, load_gold, merge_insights

    gold = load_gold(state.spark)
    found = build_insights(gold, demo=state.demo)
    merge_insights(state.summary, found)
    return {"listeners": len(gold.users), "descriptive": len(found["descriptive"]),
            "diagnostic": len(found["diagnostic"])}


def train(state: RunState) -> dict[str, Any]:
    """Modes, preference and mood models and SHAP on Gold; metrics and insights into the summary."""
    from ml.pipeline import merge_into_summary
    from ml.pipeline import train as train_models

    out = train_models(state.spark, state.settings, log=lambda line: state.console.print(f"  [dim]{line}[/dim]"))
    return merge_into_summary(state.summary, out)


def recommend(state: RunState) -> dict[str, Any]:
    """Mirror, coach, discovery and you-vs-world lists for every listener; recommender metrics."""
    from ml.recommend import recommend_all

    result = recommend_all(state.spark, state.settings)
    state.summary.setdefault("insights", {}).setdefault("prescriptive", []).extend(result.sentences)
    state.summary.setdefault("metrics", {})["recommender"] = result.metrics
    return result.counts


def report(state: RunState) -> dict[str, Any]:
    """The HTML report with every insight the earlier stages added."""
    from moodlake.analytics.report import write_report

    path = write_report(state.spark, state.summary.get("insights", {}), state.demo,
                        state.settings.reports_dir / "latest")
    return {"path": str(path), "bytes": path.stat().st_size}


STAGES: tuple[Stage, ...] = (
    Stage("ingest", reads=("data/catalog/ (TidyTuesday, Kaggle 114k)", "DEMO exports"),
          writes=("bronze.catalog_tracks", "bronze.spotify_*", "bronze.listeners", "bronze.quarantine"), run=ingest),
    Stage("transform", reads=("bronze.*",), writes=("silver.*", "gold.dim_*", "gold.fct_*", "gold.mart_*", "snapshots.*"),
          run=transform),
    Stage("insights", reads=("gold.mart_*",), writes=("summary.insights",), run=insights),
    Stage("train", reads=("gold.fct_plays", "gold.dim_tracks"),
          writes=("gold.ml_listening_modes", "gold.ml_track_scores", "gold.ml_track_explanations", "MLflow"), run=train),
    Stage("recommend", reads=("gold.fct_plays", "gold.dim_tracks", "gold.ml_*"), writes=("gold.ml_recommendations",),
          run=recommend),
    Stage("report", reads=("gold.*", "summary.insights"), writes=("reports/latest/report.html",), run=report),
)


def table_counts(spark: SparkSession) -> dict[str, int]:
    from moodlake.core.delta import delta_tables

    return {f"{s}.{t}": spark.table(f"{s}.{t}").count() for s, t in delta_tables(spark)}


def label_demo_insights(summary: Summary, demo_users: set[str]) -> None:
    """Start every sentence about a demo listener with "DEMO ·", whichever stage wrote it, so no
    insight about synthetic data can be read as a person's."""
    for kind, sentences in summary.get("insights", {}).items():
        labelled = []
        for sentence in sentences:
            about_demo = any(sentence.startswith((f"{u}:", f"{u} ")) for u in demo_users)
            labelled.append(f"DEMO · {sentence}" if about_demo else sentence)
        summary["insights"][kind] = labelled


def write_summary(settings: Settings, summary: Summary) -> Path:
    out = settings.reports_dir / "latest"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str))
    return path


def run_pipeline(settings: Settings, demo: bool, console: Console) -> bool:
    """Run every stage; on failure still write summary.json with what finished, then report.

    A failed stage shows one line on the terminal; its traceback goes to the log file
    (``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log``), as does whatever a library prints to stderr.
    """
    from moodlake.app.console import make_progress
    from moodlake.core.spark import get_spark

    started = datetime.now(UTC)
    summary: Summary = {"started_at": started.isoformat(), "demo": demo, "stages": {}, "tables": {}}
    ok = True
    log = log_path(settings)
    with make_progress(console, transient=True) as progress, stderr_to_log():
        task = progress.add_task("starting Spark", total=len(STAGES) + 1)
        t0 = time.perf_counter()
        spark = get_spark(settings)
        summary["stages"]["spark_start"] = {"seconds": round(time.perf_counter() - t0, 2)}
        console.print(f"[green]✓[/green] Spark started ({time.perf_counter() - t0:.0f} s)")
        progress.advance(task)
        state = RunState(settings=settings, spark=spark, console=console, demo=demo, summary=summary, progress=progress)
        demo_users: set[str] | None = None  # known once ingest has run; read once, when insights appear
        for stage in STAGES:
            progress.update(task, description=stage.name)
            t0 = time.perf_counter()
            try:
                info = stage.run(state)
            except Exception as exc:
                log_exception("stage %s failed", stage.name)
                console.print(f"[red]✗ stage {stage.name} failed:[/red] {escape(str(exc))}")
                console.print(f"  details and traceback: {log}")
                summary["stages"][stage.name] = {"seconds": round(time.perf_counter() - t0, 2), "error": str(exc)[:2000]}
                ok = False
                break
            summary["stages"][stage.name] = {"seconds": round(time.perf_counter() - t0, 2), **info}
            console.print(f"[green]✓[/green] {stage.name} ({time.perf_counter() - t0:.0f} s)")
            if summary.get("insights"):  # before the report stage renders them
                if demo_users is None:
                    from moodlake.analytics.insights import demo_listeners

                    demo_users = demo_listeners(spark)
                label_demo_insights(summary, demo_users)
            progress.advance(task)
    summary["tables"] = table_counts(spark)
    summary["finished_at"] = datetime.now(UTC).isoformat()
    path = write_summary(settings, summary)
    print_run_summary(console, summary, path, log)
    return ok


def print_run_summary(console: Console, summary: Summary, path: Path, log: Path | None = None) -> None:
    label = " (DEMO data)" if summary.get("demo") else ""
    console.print(Rule(f"Moodlake run{label}"), width=min(console.width, 100))  # not 400 columns when piped
    for name, stage in summary["stages"].items():
        extra = ", ".join(f"{k}={v}" for k, v in stage.items() if k not in ("seconds", "error"))
        status = f"[red]FAILED[/red] {escape(stage['error'][:200])}" if "error" in stage else "ok"
        console.print(f"  {name:<12} {stage['seconds']:>7.1f} s  {status}  {escape(extra)}")
    layers: dict[str, int] = {}
    for name, rows in summary["tables"].items():
        layers[name.split(".")[0]] = layers.get(name.split(".")[0], 0) + rows
    console.print("  rows by schema: " + ", ".join(f"{k} {v:,}" for k, v in sorted(layers.items())))
    for kind, sentences in summary.get("insights", {}).items():
        for sentence in sentences[:3]:
            console.print(f"  {escape(f'[{kind}]')} {escape(sentence)}")
    console.print(f"  summary: {path}")
    if log is not None:
        console.print(f"  log:     {log}")
