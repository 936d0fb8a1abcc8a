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


def missing_sources(available: Iterable[str]) -> list[str]:
    """Gold tables the serving views read that are not in ``available`` (their views are skipped)."""
    have = set(available)
    return [name for name in serving_sources() if name not in have]


def built_views(outcome: DbtOutcome) -> list[str]:
    """Names of the serving views that dbt-trino built successfully, sorted."""
    return sorted(re.sub(r"^model\.moodlake\.", "", k) for k, v in outcome.statuses.items()
                  if k.startswith("model.") and v == "success")


def failed_nodes(outcome: DbtOutcome) -> dict[str, str]:
    """dbt nodes that ended in anything but success/pass, with their status."""
    return {k: v for k, v in outcome.statuses.items() if v not in ("success", "pass")}


def dbt_args(settings: Settings, available: Iterable[str]) -> list[str]:
    """``dbt build`` arguments for the trino target, excluding views over missing Gold tables."""
    missing = missing_sources(available)
    args = [
        "build", "--quiet", "--target", "trino", "--select", "path:models/serving",
        "--target-path", str(settings.home / "dbt" / "target-trino"),
    ]
    if missing:
        args += ["--exclude", *(f"source:{SOURCE_NAME}.{name}+" for name in missing)]
    return args


def build_serving_views(settings: Settings, available: Iterable[str]) -> DbtOutcome:
    """Run dbt-trino; ``available`` are the Gold table names registered in Trino.

    The caller reports the outcome (:func:`built_views`, :func:`failed_nodes`, :func:`missing_sources`).
    """
    return invoke_dbt(settings, dbt_args(settings, sorted(set(available))))
