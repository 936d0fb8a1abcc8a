"""DEMO Gold tables for the recommender tests: the committed Gold fixture, written as Delta.

The recommender reads ``gold.fct_plays`` and ``gold.dim_tracks``; its tests must not run the whole
ingest + dbt pipeline (minutes of Spark on a shared 2-core box), so they read the fixture the real
pipeline wrote (tests/fixtures/gold/, checked against dbt by tests/integration/ml/test_gold_fixture.py)
and write it under a schema of the test's choosing. Nothing here re-derives Gold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tests.support.ml_fixtures import read_fixture


def demo_gold() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fct_plays, dim_tracks) of the DEMO listeners, the columns ml/ reads."""
    return read_fixture()


def write_demo_gold(spark: Any, schema: str, tmp: Path | None = None) -> tuple[str, str]:
    """Write `<schema>.fct_plays` and `<schema>.dim_tracks` as Delta from the fixture; their names.

    ``tmp`` is accepted for the old signature and unused (nothing is generated any more).
    """
    plays, tracks = demo_gold()
    spark.sql(f"create schema if not exists {schema}")
    for name, frame in (("dim_tracks", tracks), ("fct_plays", plays)):
        spark.createDataFrame(frame).write.format("delta").mode("overwrite").option(
            "overwriteSchema", "true").saveAsTable(f"{schema}.{name}")
    return f"{schema}.fct_plays", f"{schema}.dim_tracks"
