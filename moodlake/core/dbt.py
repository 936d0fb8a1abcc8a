"""Run dbt in-process, inside the Spark session this process already created.

dbt-spark's ``method: session`` calls ``SparkSession.builder...getOrCreate()``, which returns our
session (Delta, Hive metastore, jars) instead of starting a second JVM; so callers must call
``moodlake.core.spark.get_spark`` first. dbt's target and log folders live under ``$MOODLAKE_HOME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings


@dataclass
class DbtOutcome:
    """Result of one dbt invocation: success plus per-node statuses for reporting."""

    success: bool
    statuses: dict[str, str]
    error: str | None = None


def dbt_env(settings: Settings) -> None:
    os.environ["DBT_TARGET_PATH"] = str(settings.dbt_target_dir)
    os.environ["DBT_LOG_PATH"] = str(settings.home / "dbt" / "logs")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if os.environ.get("CI"):
        os.environ.setdefault("DBT_USE_COLORS", "false")
    os.environ["MOODLAKE_TRINO_PORT"] = str(settings.trino_port)


def invoke_dbt(settings: Settings, args: list[str]) -> DbtOutcome:
    """Invoke dbt with project and profiles from the repo; returns statuses instead of raising."""
    from dbt.cli.main import dbtRunner

    dbt_env(settings)
    full = [
        *args,
        "--project-dir", str(REPO_ROOT),
        "--profiles-dir", str(REPO_ROOT / "profiles"),
        "--vars", f"{{session_gap_minutes: {settings.session_gap_minutes}}}",
    ]
    result = dbtRunner().invoke(full)
    statuses: dict[str, str] = {}
    res = result.result
    for node in getattr(res, "results", None) or []:
        statuses[node.node.unique_id] = str(node.status)
    error = str(result.exception) if result.exception else None
    return DbtOutcome(success=bool(result.success), statuses=statuses, error=error)
