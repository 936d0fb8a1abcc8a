"""Build the dbt-trino serving views (``delta.serving.*``) that Superset reads.

Why views in Trino rather than more Spark tables: they cost nothing to refresh (a view always reads
the newest Delta version) and they keep presentation concerns (labels, minutes, joins for names)
out of the Gold contracts. Gold tables are built by other stages and may be missing while a
project grows, so views whose sources are not registered are excluded instead of failing the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from moodlake.core.dbt import DbtOutcome, invoke_dbt
from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings

SOURCE_NAME = "gold_delta"
SOURCES_FILE = REPO_ROOT / "models" / "serving" / "_serving__sources.yml"


def serving_sources(path: Path = SOURCES_FILE) -> list[str]:
    """Gold tables that the serving views read (the source's table list)."""
    import yaml

    doc = yaml.safe_load(path.read_text())
    for source in doc.get("sources", []):
        if source.get("name") == SOURCE_NAME:
            return [t["name"] for t in source.get("tables", [])]
    return []


def dbt_args(settings: Settings, available: Iterable[str]) -> list[str]:
    """``dbt build`` arguments for the trino target, excluding views over missing Gold tables."""
    have = set(available)
    missing = [name for name in serving_sources() if name not in have]
    args = [
        "build", "--quiet", "--target", "trino", "--select", "path:models/serving",
        "--target-path", str(settings.home / "dbt" / "target-trino"),
    ]
    if missing:
        args += ["--exclude", *(f"source:{SOURCE_NAME}.{name}+" for name in missing)]
    return args


def build_serving_views(settings: Settings, available: Iterable[str], console: Console | None = None) -> DbtOutcome:
    """Run dbt-trino; ``available`` are the Gold table names registered in Trino."""
    have = sorted(set(available))
    missing = [name for name in serving_sources() if name not in have]
    if console and missing:
        console.print(f"[yellow]Gold tables not built yet, their views are skipped:[/] {', '.join(missing)}")
    outcome = invoke_dbt(settings, dbt_args(settings, have))
    if console:
        built = sorted(re.sub(r"^model\.moodlake\.", "", k) for k, v in outcome.statuses.items()
                       if k.startswith("model.") and v == "success")
        console.print(f"Serving views built: {', '.join(built) or 'none'}")
        if not outcome.success:
            failed = {k: v for k, v in outcome.statuses.items() if v not in ("success", "pass")}
            console.print(f"[red]dbt-trino failed[/]: {outcome.error or failed}")
    return outcome
