"""The ML stage end to end on real Spark + Delta + MLflow: Gold in, gold-like ml_* tables and registry out.

One DEMO listener and a 10k-track slice of the catalog keep it to about a minute on two cores; the
tables live in their own schema so other tests' Gold tables are untouched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO

SCHEMA = "mltest"
USER = "demo-noor"
TINY = "demo-tiny"
CONTRACT = REPO.parent / "shared" / "contracts" / "summary.schema.json"
LOCAL_CONTRACT = REPO / "tests" / "fixtures" / "contracts" / "summary.schema.json"


@pytest.fixture(scope="module")
def trained(spark, settings, ml_plays, ml_tracks):
    from ml.pipeline import train

    plays = ml_plays[USER]
    # a listener with a handful of plays: the stage must report, not crash, and still train the others
    tiny = ml_plays["demo-ava"].head(30).assign(user_id=TINY)
    tiny["play_id"] = TINY + tiny["play_id"]
    plays = pd.concat([plays, tiny], ignore_index=True)
    played = ml_tracks["track_id"].isin(plays["track_id"])
    tracks = pd.concat([ml_tracks[played], ml_tracks[~played].sample(10_000 - played.sum(), random_state=0)])
    spark.sql(f"create schema if not exists {SCHEMA}")
    spark.createDataFrame(plays).write.format("delta").mode("overwrite").saveAsTable(f"{SCHEMA}.fct_plays")
    spark.createDataFrame(tracks).write.format("delta").mode("overwrite").saveAsTable(f"{SCHEMA}.dim_tracks")
    out = train(spark, settings, plays_table=f"{SCHEMA}.fct_plays", tracks_table=f"{SCHEMA}.dim_tracks",
                schema=SCHEMA, log=lambda _: None)
    return {"out": out, "tracks": tracks, "plays": plays}


def contract() -> dict:
    path = CONTRACT if CONTRACT.exists() else LOCAL_CONTRACT
    return json.loads(path.read_text())


def test_metrics_and_insights_validate_against_the_summary_contract(trained) -> None:
    from ml.pipeline import merge_into_summary

    now = datetime.now(UTC).isoformat()
    summary = {"started_at": now, "finished_at": now, "stages": {}, "tables": {}, "insights": {"descriptive": ["x"]}}
    stage = merge_into_summary(summary, trained["out"])
    summary["stages"]["train"] = {"seconds": 1.0, **stage}
    jsonschema.validate(summary, contract())
    metrics = summary["metrics"]
    assert metrics["preference"]["auc"] >= 0.80
    assert metrics["preference"]["negatives"] == "plain" and metrics["preference"]["matched_auc"] >= 0.80
    assert metrics["mood"]["macro_f1"] > metrics["mood"]["baseline_macro_f1"]
    assert sum(metrics["shap"].values()) == pytest.approx(1.0, abs=1e-3)
    assert metrics["listening_modes"]["k"] == len(metrics["listening_modes"]["names"])
    assert summary["insights"]["descriptive"] == ["x"]
    assert set(metrics["skipped"][TINY]) == {"listening_modes", "preference"}
    assert set(metrics["preference"]["per_user"]) == {USER} and stage["listeners"] == 2
    assert any("explains" in s for s in summary["insights"]["cognitive"])
    assert any("AUC" in s for s in summary["insights"]["predictive"])


def test_gold_tables_follow_the_contract(spark, trained) -> None:
    tracks, plays = trained["tracks"], trained["plays"]
    expected = {
        "ml_listening_modes": {"user_id", "mode_id", "mode_name", "share_of_plays", "energy", "valence"},
        "ml_play_modes": {"play_id", "user_id", "mode_id"},
        "ml_track_scores": {"user_id", "track_id", "preference_score"},
        "ml_track_explanations": {"user_id", "track_id", "rank", "feature", "value", "contribution", "reason"},
        "ml_mode_schedule": {"user_id", "local_weekday", "daypart", "mode_id", "mode_name"},
        "ml_session_modes": {"session_id", "user_id", "mode_id"},
    }
    for table, columns in expected.items():
        df = spark.table(f"{SCHEMA}.{table}")
        assert columns <= set(df.columns), table
        assert spark.sql(f"describe detail {SCHEMA}.{table}").first()["format"] == "delta"
    scores = spark.table(f"{SCHEMA}.ml_track_scores").toPandas()
    assert set(scores["user_id"]) == {USER}
    assert len(scores) == len(tracks) and scores["track_id"].is_unique
    assert scores["preference_score"].between(0, 1).all()
    explanations = spark.table(f"{SCHEMA}.ml_track_explanations")
    assert explanations.count() == 3 * len(tracks)
    assert spark.table(f"{SCHEMA}.ml_play_modes").count() == (plays["user_id"] == USER).sum()


def test_champion_in_the_registry_reproduces_the_gold_scores(settings, spark, trained) -> None:
    import mlflow

    from ml.preference import load_champion, model_name
    from ml.tracking import configure, load_modes

    model = load_champion(settings, USER)
    sample = trained["tracks"].sample(200, random_state=1)
    scores = spark.table(f"{SCHEMA}.ml_track_scores").toPandas().set_index("track_id")["preference_score"]
    np.testing.assert_allclose(model.predict_proba(sample)[:, 1], scores[sample["track_id"]], rtol=1e-9)
    assert len(load_modes(settings, USER).mode_names_) == trained["out"].metrics["listening_modes"]["k"]

    configure(settings)
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias(model_name(USER), "champion")
    run = client.get_run(version.run_id)
    assert run.data.metrics["plain_auc"] >= 0.8 and "matched_auc" in run.data.metrics
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/roc_pr_calibration_plain.png", "plots/roc_pr_calibration_matched.png", "plots/shap_summary.png"} <= plots
    experiments = {e.name for e in client.search_experiments()}
    assert {"moodlake-listening-modes", "moodlake-preference", "moodlake-mood"} <= experiments
