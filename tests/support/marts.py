"""Shared steps for the Gold tests: land the fixture catalog and histories, run dbt once.

dbt on Spark costs minutes on a small machine, so the whole project is built at most once per test
session (`build_gold`); tests that need their own sequence (incremental, snapshot) run narrower
selections through `dbt`. Everything runs in the session's real Spark + Delta + Hive metastore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MARTS = FIXTURES / "marts"
CATALOG = FIXTURES / "catalog" / "tidytuesday_sample.csv"
LISTENERS = {"fixture-lena": "Europe/Berlin", "fixture-omar": "America/New_York"}
_STATE: dict[str, Any] = {}


def dbt(settings: Settings, args: list[str], variables: dict[str, Any] | None = None) -> Any:
    """Run dbt in-process like `moodlake transform`, optionally with extra vars; fail loudly."""
    from dbt.cli.main import dbtRunner

    from moodlake.core.dbt import dbt_env

    dbt_env(settings)
    merged = {"session_gap_minutes": settings.session_gap_minutes, **(variables or {})}
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT / "profiles"), "--vars", json.dumps(merged)]
    )
    if not result.success:
        nodes = getattr(result.result, "results", None) or []
        failed = [f"{r.node.unique_id}: {r.message}" for r in nodes if str(r.status) not in ("success", "pass")]
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or ''} {failed[:10]}")
    return result


def land_catalog(spark: Any, path: Path = CATALOG) -> None:
    from ingestion.catalog import ingest_catalog_files

    ingest_catalog_files(spark, [path])


def land_history(spark: Any, settings: Settings, suffix: str = "") -> None:
    """Land each fixture listener's base files (suffix "") or the extra day (suffix "_day10")."""
    from ingestion.history import ingest_history_paths

    for user, zone in LISTENERS.items():
        ingest_history_paths(spark, settings, [MARTS / f"{user}{suffix}"], user=user, timezone=zone)


def build_gold(spark: Any, settings: Settings) -> None:
    """Catalog + full fixture history, then one `dbt build` of the whole project (once per session)."""
    if _STATE.get("built"):
        return
    land_catalog(spark)
    land_history(spark, settings)
    land_history(spark, settings, "_day10")
    dbt(settings, ["build", "--full-refresh"])
    _STATE["built"] = True
