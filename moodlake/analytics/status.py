"""What the lakehouse holds: every Delta table with layer, rows, version and location, and coverage.

The JSON shape follows ../shared/contracts/status.schema.json. Views (dbt staging) are not
storage and are left out; every table listed is a Delta table a reader can open directly.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from moodlake.core.delta import delta_tables, table_info

COVERAGE_TABLE = "gold.fct_plays"


def coverage(spark: SparkSession) -> dict[str, dict[str, Any]]:
    """Per listener: share of plays and of minutes that have catalog audio features."""
    if not spark.catalog.tableExists(COVERAGE_TABLE):
        return {}
    rows = spark.sql(
        f"""
        select user_id,
               count(*) as plays,
               avg(case when has_audio_features then 1.0 else 0.0 end) as matched_play_share,
               sum(case when has_audio_features then ms_played else 0 end) / greatest(sum(ms_played), 1)
                   as matched_minute_share
        from {COVERAGE_TABLE}
        group by user_id
        order by user_id
        """
    ).collect()
    return {
        r["user_id"]: {
            "plays": int(r["plays"]),
            "matched_play_share": round(float(r["matched_play_share"]), 4),
            "matched_minute_share": round(float(r["matched_minute_share"]), 4),
        }
        for r in rows
    }


def collect_status(spark: SparkSession) -> dict[str, Any]:
    data: dict[str, Any] = {"tables": [table_info(spark, s, t) for s, t in delta_tables(spark)]}
    cov = coverage(spark)
    if cov:
        data["coverage"] = cov
    return data
