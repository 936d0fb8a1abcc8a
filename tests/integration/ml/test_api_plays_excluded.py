"""Spotify's Developer Policy: no model may learn from Web API plays; the export's plays train."""

from __future__ import annotations

import pandas as pd

SCHEMA = "mlapi"


def test_models_read_export_plays_but_never_api_plays(spark, ml_plays) -> None:
    from ml.features import FEATURES
    from ml.frames import read_plays
    from ml.recommend import load_inputs

    plays = ml_plays["demo-ava"].head(40).copy()
    plays["source"] = ["api" if i % 4 == 0 else "export_extended" for i in range(len(plays))]
    api_ids = set(plays.loc[plays["source"] == "api", "play_id"])
    spark.sql(f"create schema if not exists {SCHEMA}")
    spark.createDataFrame(plays).write.format("delta").mode("overwrite").option(
        "overwriteSchema", "true").saveAsTable(f"{SCHEMA}.fct_plays")
    tracks = plays[["track_id", "genre", "popularity", *FEATURES]].drop_duplicates("track_id")
    tracks = tracks.rename(columns={"genre": "primary_genre"}).assign(track_name="t", primary_artist_name="a")
    spark.createDataFrame(tracks).write.format("delta").mode("overwrite").option(
        "overwriteSchema", "true").saveAsTable(f"{SCHEMA}.dim_tracks")

    trained_on = read_plays(spark, f"{SCHEMA}.fct_plays")
    assert len(trained_on) == len(plays) - len(api_ids) > 0
    assert not api_ids & set(trained_on["play_id"])
    fitted_on = load_inputs(spark, f"{SCHEMA}.fct_plays", f"{SCHEMA}.dim_tracks", ml_schema=SCHEMA).plays
    assert not api_ids & set(fitted_on["play_id"])
    assert len(fitted_on) == len(plays) - len(api_ids)
    assert isinstance(fitted_on, pd.DataFrame)
