"""Collaborative filtering on real Spark MLlib: ALS factors, cold tracks via audio neighbours, and the
recall@20 / NDCG@20 comparison against popularity logged to MLflow."""

from __future__ import annotations

import pandas as pd
import pytest

from ml import als
from ml.recommend import load_inputs
from tests.support.recommend_demo_gold import write_demo_gold

SCHEMA = "recdemo"


@pytest.fixture(scope="module")
def inputs(spark, tmp_path_factory: pytest.TempPathFactory):
    if not spark.catalog.tableExists(f"{SCHEMA}.fct_plays"):
        write_demo_gold(spark, SCHEMA, tmp_path_factory.mktemp("demo"))
    return load_inputs(spark, f"{SCHEMA}.fct_plays", f"{SCHEMA}.dim_tracks", SCHEMA)


def test_ranking_metrics_by_hand() -> None:
    recall, ndcg = als.ranking_metrics(["a", "x", "b"], {"a", "b", "c", "d"}, k=3)
    assert recall == 0.5
    assert ndcg == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.5849625 + 1 / 2), rel=1e-6)


def test_cold_tracks_borrow_scores_from_audio_neighbours(spark, inputs) -> None:
    model = als.fit_als(spark, als.play_counts(inputs.plays))
    noor = inputs.plays[inputs.plays["user_id"] == "demo-noor"]
    counts = noor["track_id"].value_counts()
    favourite = sorted(counts[counts == counts.max()].index)[0]
    clone = inputs.tracks[inputs.tracks["track_id"] == favourite].assign(track_id="cold-clone-of-favourite")
    far = clone.assign(track_id="cold-opposite", acousticness=0.0, energy=0.98, danceability=0.95, loudness=-2.0,
                       tempo=175.0, valence=0.95, speechiness=0.4)
    catalog = pd.concat([inputs.tracks, clone, far], ignore_index=True)
    scores = als.hybrid_scores(model, "demo-noor", catalog, noor)
    assert scores.between(0, 1).all()
    assert "cold-clone-of-favourite" not in model.items
    pct = scores.rank(pct=True)
    assert pct[favourite] > 0.9  # the listener's most played track
    assert pct["cold-clone-of-favourite"] > 0.8  # an unplayed twin ranks near the top (0.87-0.94 observed)
    assert pct["cold-opposite"] < 0.2


def test_als_vs_popularity_is_computed_and_logged(settings, spark, inputs) -> None:
    import mlflow

    metrics = als.evaluate(spark, inputs.plays, inputs.tracks, k=20)
    for name in ("als", "hybrid", "popularity"):
        for metric in ("recall", "ndcg"):
            for protocol in ("all", "new"):
                assert 0 <= metrics[f"{name}_{metric}_at_20_{protocol}"] <= 1
    assert metrics["listeners"] == 3 and metrics["test_plays"] > 0.15 * (metrics["train_plays"] + metrics["test_plays"])
    # the demo finding the README reports: personal ALS beats global popularity on returning plays
    assert metrics["als_recall_at_20_all"] > metrics["popularity_recall_at_20_all"]
    run_id = als.log_evaluation(settings, metrics)
    logged = mlflow.get_run(run_id).data.metrics
    assert logged["als_recall_at_20_all"] == metrics["als_recall_at_20_all"]
    assert mlflow.get_run(run_id).data.params["k"] == "20"
