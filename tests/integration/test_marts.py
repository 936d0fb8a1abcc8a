"""Gold marts on the fixture histories: built by one real `dbt build` (all data and unit tests),
then checked against independent recomputation in pandas/numpy, per listener."""

from __future__ import annotations

import json
import math
import threading
import urllib.request

import numpy as np
import pandas as pd
import pytest

from moodlake.serve.docs import make_server
from tests.support.marts import LISTENERS, build_gold, dbt

MARTS = [
    "mart_hour_weekday_profile", "mart_daypart_mood", "mart_feature_correlations", "mart_genre_gap",
    "mart_feature_gap", "mart_daily_mood", "mart_low_valence_streaks", "mart_yearly_recap",
]


@pytest.fixture(scope="module")
def gold(spark, settings):
    build_gold(spark, settings)
    return spark


def _table(spark, name: str) -> pd.DataFrame:
    users = ", ".join(f"'{u}'" for u in LISTENERS)
    return spark.sql(f"select * from gold.{name} where user_id in ({users})").toPandas()


def test_every_mart_is_per_listener_and_filled(gold):
    plays = _table(gold, "fct_plays")
    assert set(plays["user_id"]) == set(LISTENERS)
    for name in ["fct_sessions", *MARTS]:
        frame = gold.table(f"gold.{name}").toPandas()
        assert frame["user_id"].notna().all(), name
        assert set(frame["user_id"]) <= set(gold.table("gold.fct_plays").select("user_id").distinct().toPandas()["user_id"]), name
        if name != "mart_low_valence_streaks":
            assert set(LISTENERS) <= set(frame["user_id"]), f"{name} has no rows for a fixture listener"


def test_sessions_and_profiles_add_up_to_plays(gold):
    plays = _table(gold, "fct_plays")
    sessions = _table(gold, "fct_sessions")
    per_user = plays.groupby("user_id").size().astype("int64").to_dict()
    assert len(per_user) == len(LISTENERS) and min(per_user.values()) > 100
    for name, frame in [
        ("fct_sessions", sessions),
        ("mart_hour_weekday_profile", _table(gold, "mart_hour_weekday_profile")),
        ("mart_daypart_mood", _table(gold, "mart_daypart_mood")),
        ("mart_daily_mood", _table(gold, "mart_daily_mood")),
    ]:
        assert frame.groupby("user_id")["plays"].sum().astype("int64").to_dict() == per_user, name
    # a session never spans a pause longer than the gap var
    ordered = plays.sort_values(["user_id", "played_at", "play_id"])
    previous_end = ordered.groupby("user_id")["ended_at"].shift()
    gap = (ordered["played_at"] - previous_end).dt.total_seconds() / 60
    same = ordered["session_id"].eq(ordered.groupby("user_id")["session_id"].shift())
    assert (gap[same] <= 20).all() and (gap[~same & gap.notna()] > 20).all()


def test_daypart_is_listener_local(gold):
    plays = _table(gold, "fct_plays")
    expected = pd.cut(plays["local_hour"], [-1, 5, 11, 17, 23], labels=["night", "morning", "afternoon", "evening"]).astype(str)
    assert (plays["daypart"] == expected).all()
    local = plays.apply(lambda r: r["played_at"].tz_localize("UTC").tz_convert(LISTENERS[r["user_id"]]).hour, axis=1)
    assert (local == plays["local_hour"]).all()


def _pick(corr: pd.DataFrame, user: str, feature: str, outcome: str) -> pd.DataFrame:
    mask = (corr["user_id"] == user) & (corr["daypart"] == "all") & (corr["feature"] == feature) & (corr["outcome"] == outcome)
    return corr[mask]


def test_correlations_match_numpy_with_fisher_interval(gold):
    plays = _table(gold, "fct_plays").dropna(subset=["valence"])
    corr = _table(gold, "mart_feature_correlations")
    checked = 0
    for user in LISTENERS:
        mine = plays[plays["user_id"] == user]
        for feature in ("energy", "valence", "tempo"):
            for outcome, values in (("completion", mine["completion_ratio"]), ("skip", mine["is_skipped"].astype(float))):
                pair = pd.DataFrame({"x": mine[feature], "y": values}).dropna()
                r = float(np.corrcoef(pair["x"], pair["y"])[0, 1])
                row = _pick(corr, user, feature, outcome)
                assert len(row) == 1
                row = row.iloc[0]
                assert row["n"] == len(pair)
                assert row["r"] == pytest.approx(r, abs=1e-9)
                half = 1.959964 / math.sqrt(len(pair) - 3)
                assert row["ci_low"] == pytest.approx(math.tanh(math.atanh(r) - half), abs=1e-9)
                assert row["ci_high"] == pytest.approx(math.tanh(math.atanh(r) + half), abs=1e-9)
                assert bool(row["is_significant"]) == (row["ci_low"] > 0 or row["ci_high"] < 0)
                checked += 1
        counts = mine.groupby("track_id").agg(plays=("play_id", "size"), energy=("energy", "max"))
        row = _pick(corr, user, "energy", "play_count")
        assert row.iloc[0]["n"] == len(counts)
        assert row.iloc[0]["r"] == pytest.approx(np.corrcoef(counts["energy"], counts["plays"])[0, 1], abs=1e-9)
    assert checked == 12


def test_genre_gap_shares_and_never_played(gold):
    gap = _table(gold, "mart_genre_gap")
    for (_user, _level), frame in gap.groupby(["user_id", "genre_level"]):
        assert frame["user_share"].sum() == pytest.approx(1.0)
        assert frame["catalog_share"].sum() == pytest.approx(1.0)
        assert (frame["is_never_played"] == (frame["user_plays"] == 0)).all()
        assert not (frame["is_fit_but_unplayed"] & ~frame["is_never_played"]).any()
    plays = _table(gold, "fct_plays")
    lena = plays[(plays["user_id"] == "fixture-lena") & plays["genre"].notna()]
    top = lena["genre"].value_counts()
    row = gap[(gap["user_id"] == "fixture-lena") & (gap["genre_level"] == "genre") & (gap["genre"] == top.index[0])].iloc[0]
    assert row["user_plays"] == top.iloc[0]


def test_yearly_recap_ranks_by_plays_and_minutes(gold):
    recap = _table(gold, "mart_yearly_recap")
    plays = _table(gold, "fct_plays")
    for user in LISTENERS:
        mine = plays[plays["user_id"] == user]
        by_artist = mine.groupby(mine["artist_name"].str.lower())["ms_played"].sum().sort_values(ascending=False)
        mine_recap = recap[recap["user_id"] == user]
        top = mine_recap.query("category == 'artist' and ranked_by == 'minutes' and item_rank == 1")
        assert top.iloc[0]["minutes"] == pytest.approx(by_artist.iloc[0] / 60000)
        mood = mine["mood_quadrant"].value_counts()
        assert set(recap[recap["user_id"] == user]["mood_of_the_year"]) == {mood.index[0]}


def test_every_model_and_column_is_described(gold, settings):
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed", "snapshot") or node["package_name"] != "moodlake":
            continue
        if not node.get("description"):
            missing.append(node["name"])
        missing += [f"{node['name']}.{c}" for c, spec in node["columns"].items() if not spec.get("description")]
    assert not missing, f"undescribed: {missing}"
    gold_names = ["fct_plays", "fct_sessions", *MARTS]
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] in gold_names]
    assert len(marts) == 10 and all(n["config"]["contract"]["enforced"] for n in marts)


def test_docs_site_builds(gold, settings):
    dbt(settings, ["docs", "generate"])
    target = settings.dbt_target_dir
    for name in ("index.html", "catalog.json", "manifest.json"):
        assert (target / name).is_file(), name
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.moodlake.fct_plays" in catalog["nodes"]
    columns = catalog["nodes"]["model.moodlake.fct_plays"]["columns"]
    assert "session_id" in columns and "mood_quadrant" in columns
    # `moodlake docs` serves that folder on loopback
    server = make_server(target, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
            assert response.status == 200 and b"dbt" in response.read()
    finally:
        server.shutdown()
        server.server_close()
