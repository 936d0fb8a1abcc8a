"""What Silver holds per listener after the last `dbt build`: plays per source, drops per reason, coverage.

Read after every transform so nothing dropped on the way is silent (printed by the app, stored in
``summary.json`` as ``silver``). Silver itself is built by dbt; this only reads it.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

PLAYS_TABLE = "silver.int_plays_matched"
DROPS_TABLE = "silver.int_play_drops"


def _for_users(df: DataFrame, users: list[str] | None) -> DataFrame:
    return df.where(F.col("user_id").isin(users)) if users else df


def silver_summary(spark: SparkSession, users: list[str] | None = None) -> dict[str, Any]:
    """Plays per listener and source, drops per reason and catalog coverage from Silver, if built."""
    out: dict[str, Any] = {}
    if spark.catalog.tableExists(PLAYS_TABLE):
        plays = _for_users(spark.table(PLAYS_TABLE), users)
        rows = (
            plays.groupBy("user_id", "source")
            .agg(
                F.count(F.lit(1)).alias("plays"),
                F.sum(F.col("is_short_play").cast("int")).alias("short_plays"),
                F.sum(F.col("has_audio_features").cast("int")).alias("with_features"),
                F.sum(F.when(F.col("has_audio_features"), F.col("ms_played")).otherwise(0)).alias("ms_with_features"),
                F.sum("ms_played").alias("ms_total"),
            )
            .orderBy("user_id", "source")
            .collect()
        )
        out["plays"] = [r.asDict() for r in rows]
    if spark.catalog.tableExists(DROPS_TABLE):
        drops = _for_users(spark.table(DROPS_TABLE), users).orderBy("user_id", "source", "reason").collect()
        out["drops"] = [r.asDict() for r in drops]
    return out
