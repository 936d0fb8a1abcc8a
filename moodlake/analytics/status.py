"""What the lakehouse holds: every Delta table with layer, rows, version and location, and coverage.

The JSON shape follows ../shared/contracts/status.schema.json. Views (dbt staging) are not
storage and are left out; every table listed is a Delta table a reader can open directly.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from moodlake.analytics.coverage import FeatureBase
from moodlake.analytics.coverage import coverage as listener_coverage
from moodlake.core.delta import delta_tables, table_info


def coverage(spark: SparkSession) -> dict[str, dict[str, Any]]:
    """Per listener: plays, the share of plays and of minutes with track-level audio features, and plays
    per match level (from the Gold coverage mart; empty before the first build)."""
    out: dict[str, dict[str, Any]] = {}
    for item in listener_coverage(spark, top=0):
        base = FeatureBase.of(item)
        out[item["user_id"]] = {
            "plays": item["plays"], "matched_play_share": round(base.play_share, 4),
            "matched_minute_share": round(base.minute_share, 4), "by_level": item["by_level"],
        }
    return out


def collect_status(spark: SparkSession) -> dict[str, Any]:
    data: dict[str, Any] = {"tables": [table_info(spark, s, t) for s, t in delta_tables(spark)]}
    cov = coverage(spark)
    if cov:
        data["coverage"] = cov
    return data
