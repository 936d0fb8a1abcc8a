"""Score and explain the whole catalog for each listener, distributed with Spark ``mapInPandas``.

The fitted preference models (one per listener, a few hundred KB each) are broadcast once; each
Spark task scores and SHAP-explains its slice of ``gold.dim_tracks`` for every listener. The result
lands in ``gold.ml_track_explanations`` (top features per track) and ``gold.ml_track_scores``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ml.explain import TOP_FEATURES
from ml.features import FEATURES
from ml.frames import TRACK_COLUMNS

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
        from ml.features import model_matrix

        models: dict[str, tuple[Any, str]] = cloudpickle.loads(payload.value)
        with threadpool_limits(1):
            for batch in batches:
                x = model_matrix(batch)
                for user_id, (model, version) in models.items():
                    scores = pd.Series(model.predict_proba(x)[:, 1], index=batch["track_id"].to_numpy())
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

    cond = " and ".join(f"{c} is not null" for c in ("track_id", *FEATURES, "popularity"))
    tracks = spark.table(tracks_table).where(cond).select(*TRACK_COLUMNS)
    parts = partitions or max(2, spark.sparkContext.defaultParallelism)
    payload = spark.sparkContext.broadcast(cloudpickle.dumps(models))
    return tracks.repartition(parts).mapInPandas(_score_partition(payload, top), schema=EXPLANATION_DDL)


def write_delta(spark: Any, df: Any, table: str, users: list[str]) -> int:
    """Replace the given listeners' rows of a Gold Delta table (create it on first write)."""
    if spark.catalog.tableExists(table):
        quoted = ", ".join("'" + u.replace("'", "''") + "'" for u in users)
        df.write.format("delta").mode("overwrite").option("replaceWhere", f"user_id in ({quoted})").saveAsTable(table)
    else:
        df.write.format("delta").mode("overwrite").saveAsTable(table)
    return spark.table(table).count()


def write_scores(spark: Any, explanations_df: Any, schema: str, users: list[str]) -> dict[str, int]:
    """Materialise explanations, then derive one score row per (listener, track) from them."""
    from pyspark.sql import functions as F

    counts = {}
    expl_table, score_table = f"{schema}.ml_track_explanations", f"{schema}.ml_track_scores"
    counts[expl_table] = write_delta(spark, explanations_df, expl_table, users)
    quoted = ", ".join("'" + u.replace("'", "''") + "'" for u in users)
    scores = (
        spark.table(expl_table)
        .where(f"rank = 1 and user_id in ({quoted})")
        .select("user_id", "track_id", "preference_score", "model_version")
        .withColumn("scored_at", F.lit(datetime.now(UTC).replace(tzinfo=None)).cast("timestamp"))
    )
    counts[score_table] = write_delta(spark, scores, score_table, users)
    return counts
