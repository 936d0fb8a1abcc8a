"""Score and explain the whole catalog for each listener, distributed with Spark ``mapInPandas``.

The fitted preference models (one per listener: ml.preference.PreferenceModel, the booster plus the
listener's plays and the catalog context its history features need, a few MB) are broadcast once;
each Spark task scores and SHAP-explains its slice of ``gold.dim_tracks`` for every listener, with
the listener's history features as of their last play (a track they already played is described
as of just before its first play, as in training). The result lands in
``gold.ml_track_explanations`` (top features per track) and ``gold.ml_track_scores``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ml.explain import TOP_FEATURES
from ml.frames import CANDIDATE_COLUMNS, SCORABLE_TRACKS

EXPLANATION_DDL = (
    "user_id string, track_id string, rank int, feature string, value double, contribution double, reason string, "
    "preference_score double, model_version string"
)
EXPLANATION_COLUMNS = [c.split()[0] for c in EXPLANATION_DDL.split(", ")]


def _score_partition(payload: Any, top: int) -> Any:
    """The function each Spark task runs: unpickle the models once, then score every batch."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import cloudpickle
        from threadpoolctl import threadpool_limits

        from ml.explain import explain_tracks

        models: dict[str, tuple[Any, str]] = cloudpickle.loads(payload.value)
        with threadpool_limits(1):
            for batch in batches:
                for user_id, (model, version) in models.items():
                    scores = pd.Series(model.predict_proba(batch)[:, 1], index=batch["track_id"].to_numpy())
                    out = explain_tracks(model, batch, top=top)
                    out["preference_score"] = out["track_id"].map(scores).astype("float64")
                    out["user_id"] = user_id
                    out["model_version"] = version
                    out["rank"] = out["rank"].astype("int32")
                    yield out.loc[:, EXPLANATION_COLUMNS]

    return run


def score_catalog(
    spark: Any, models: dict[str, tuple[Any, str]], tracks_table: str, partitions: int | None = None, top: int = TOP_FEATURES
) -> Any:
    """Spark DataFrame of explanations + scores for every (listener, catalog track with features)."""
    import cloudpickle

    table = spark.table(tracks_table)
    tracks = table.where(SCORABLE_TRACKS).select(*[c for c in CANDIDATE_COLUMNS if c in set(table.columns)])
    parts = partitions or max(2, spark.sparkContext.defaultParallelism)
    payload = spark.sparkContext.broadcast(cloudpickle.dumps(models))
    return tracks.repartition(parts).mapInPandas(_score_partition(payload, top), schema=EXPLANATION_DDL)


def write_delta(spark: Any, df: Any, table: str, users: list[str]) -> None:
    """Replace the given listeners' rows of a Gold Delta table atomically (create it on first write).

    DataFrameWriterV2 ``overwrite(condition)`` is Delta's replaceWhere without re-registering the
    table schema in the Hive metastore (``saveAsTable`` there logs a spurious alter-table error).
    """
    from pyspark.sql import functions as F

    if spark.catalog.tableExists(table):
        df.writeTo(table).overwrite(F.col("user_id").isin(users))
    else:
        df.writeTo(table).using("delta").create()


def write_scores(spark: Any, explanations_df: Any, schema: str, users: list[str]) -> list[str]:
    """Materialise explanations, then derive one score row per (listener, track) from them."""
    from pyspark.sql import functions as F

    expl_table, score_table = f"{schema}.ml_track_explanations", f"{schema}.ml_track_scores"
    write_delta(spark, explanations_df, expl_table, users)
    scores = (
        spark.table(expl_table)
        .where(F.col("rank") == 1)
        .where(F.col("user_id").isin(users))
        .select("user_id", "track_id", "preference_score", "model_version")
        .withColumn("scored_at", F.lit(datetime.now(UTC).replace(tzinfo=None)).cast("timestamp"))
    )
    write_delta(spark, scores, score_table, users)
    return [expl_table, score_table]
