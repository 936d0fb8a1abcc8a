"""Recommender acceptance on real Spark + Delta: demo Gold tables in, gold-shaped lists out.

The demo Gold tables are the committed Gold fixture (the real pipeline on the DEMO exports,
tests/fixtures/gold/) written as Delta under the `recdemo` schema (tests/support/recommend_demo_gold.py);
everything downstream runs the product code.
"""

from __future__ import annotations

import json

import pytest

from ml.recommend import Recommender, explain_track, load_inputs, recommend_all, write_recommendations
from ml.state import MATCH_FEATURES, compute_state
from moodlake.app.console import recording_console
from tests.support.recommend_demo_gold import write_demo_gold

SCHEMA = "recdemo"
FEATURE_WORDS = MATCH_FEATURES
TABLES = {"plays_table": f"{SCHEMA}.fct_plays", "tracks_table": f"{SCHEMA}.dim_tracks", "ml_schema": SCHEMA}


@pytest.fixture(scope="module")
def gold(spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not spark.catalog.tableExists(f"{SCHEMA}.fct_plays"):
        write_demo_gold(spark, SCHEMA, tmp_path_factory.mktemp("demo"))
    return TABLES


@pytest.fixture(scope="module")
def rec(spark, gold) -> Recommender:
    return Recommender(spark, load_inputs(spark, **gold))


def features_named(text: str) -> int:
    return sum(word in text for word in FEATURE_WORDS)


def test_noor_coach_lifts_valence_a_small_step_and_mirror_stays(rec: Recommender) -> None:
    state = compute_state(rec.inputs.plays, "demo-noor")
    assert state.in_streak
    coach = rec.recommend("demo-noor", "coach", n=20)
    mirror = rec.recommend("demo-noor", "mirror", n=20)
    assert len(coach.rows) == len(mirror.rows) == 20
    step = coach.rows["valence"].mean() - state.recent_valence
    assert 0.05 <= step <= 0.15, step
    assert (coach.rows["valence"] >= state.recent_valence).all()
    assert abs(mirror.rows["valence"].mean() - state.recent_valence) <= 0.05
    assert f"{state.streak_days} days" in coach.framing and "diagnos" not in coach.framing
    assert coach.rows["improvement_score"].mean() > mirror.rows["improvement_score"].mean()
    assert mirror.rows["match_score"].mean() > coach.rows["match_score"].mean()
    recent = set(rec.inputs.plays.query("user_id == 'demo-noor'").sort_values("played_at").tail(200)["track_id"])
    assert not recent & set(coach.rows["track_id"])  # no replays of last month


def test_json_rows_have_both_scores_and_a_reason_with_two_features(settings, spark, gold, capsys) -> None:
    from moodlake.app.recommend import run_recommend

    out_table = f"{SCHEMA}.ml_recommendations_cli"
    for mode in ("coach", "mirror"):
        run_recommend(settings, recording_console(), "demo-noor", mode, 20, "now", False, True, {**gold, "out_table": out_table})
        payload = json.loads(capsys.readouterr().out)
        assert "not a diagnosis" in payload["note"]
        assert len(payload["recommendations"]) == 20
        for row in payload["recommendations"]:
            assert 0 <= row["match_score"] <= 1 and 0 <= row["improvement_score"] <= 1
            assert row["reason"] and features_named(row["reason"]) >= 2, row["reason"]
    written = spark.table(out_table).groupBy("mode").count().collect()
    assert {r["mode"]: r["count"] for r in written} == {"coach": 20, "mirror": 20}


def test_new_artists_only_and_context(rec: Recommender) -> None:
    played = set(rec.inputs.plays.query("user_id == 'demo-ava'")["artist_name"].str.lower())
    result = rec.recommend("demo-ava", "mirror", n=15, context="monday morning", new_artists_only=True)
    assert not played & set(result.rows["artist_name"].str.lower())
    assert result.profile is not None and result.profile.name.startswith("Monday morning")
    assert result.rows["tempo"].mean() > 110  # Ava's weekday mornings are the 115-130 BPM commute
    assert all("Monday morning mode" in r for r in result.rows["reason"])


def test_discovery_and_you_vs_world(rec: Recommender) -> None:
    disc = rec.discovery("demo-noor", n=10)
    played = set(rec.inputs.plays.query("user_id == 'demo-noor'")["artist_name"].str.lower())
    assert len(disc.rows) == 10 and not played & set(disc.rows["artist_name"].str.lower())
    assert set(disc.rows["genre"]) <= {"r&b", "pop", "latin"}  # Noor's genres (demo taste)
    world = rec.you_vs_world("demo-noor", n=5)
    gaps = rec.genre_gaps("demo-noor").set_index("genre")
    assert len(world.rows) == 5 and (gaps.loc[world.rows["genre"], "gap"] < 0).all()
    assert all("of the catalog" in r for r in world.rows["reason"])


def test_write_replaces_only_the_same_list(spark, rec: Recommender) -> None:
    table = f"{SCHEMA}.ml_recommendations_write"
    mirror = rec.recommend("demo-ben", "mirror", n=5)
    coach = rec.recommend("demo-ben", "coach", n=5)
    write_recommendations(spark, [mirror, coach], table)
    write_recommendations(spark, [rec.recommend("demo-ben", "mirror", n=3)], table)
    counts = {r["mode"]: r["count"] for r in spark.table(table).groupBy("mode").count().collect()}
    assert counts == {"mirror": 3, "coach": 5}


def test_explain_any_track(rec: Recommender) -> None:
    track = rec.inputs.tracks["track_id"].iloc[123]
    info = explain_track(rec, track, "demo-noor")
    assert info["track_id"] == track and 0 <= info["match_score"] <= 1 and 0 <= info["improvement_score"] <= 1
    assert features_named(info["reason"]) >= 2
    with pytest.raises(ValueError, match=r"not in gold\.dim_tracks"):
        explain_track(rec, "no-such-track", "demo-noor")
    with pytest.raises(ValueError, match="unknown listener"):
        explain_track(rec, track, "demo-nobody")


def test_stage_writes_every_listener_and_fills_the_summary(settings, spark, gold) -> None:
    out_table = f"{SCHEMA}.ml_recommendations_stage"
    result = recommend_all(spark, settings, out_table=out_table, **gold)
    info = result.counts
    assert info["listeners"] == 3 and info["skipped"] == 0
    rows = spark.table(out_table).toPandas()
    assert set(rows["user_id"]) == {"demo-ava", "demo-ben", "demo-noor"}
    assert {"mirror", "coach", "discovery", "world"} <= set(rows["mode"])
    assert rows["reason"].map(features_named).min() >= 2
    prescriptive = result.sentences
    assert any("demo-noor: coach mode" in s and "low-valence days" in s for s in prescriptive)
    metrics = result.metrics
    assert {"als_recall_at_20_all", "popularity_recall_at_20_all", "als_ndcg_at_20_all", "mlflow_run_id"} <= set(metrics)
    assert metrics["listeners"] == 3
    noor = metrics["by_listener"]["demo-noor"]
    assert 0.05 <= noor["coach_delta_valence"] <= 0.15 and abs(noor["mirror_delta_valence"]) <= 0.05
