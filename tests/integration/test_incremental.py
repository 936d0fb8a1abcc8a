"""Gold fct_plays is an incremental Delta merge: one more day of plays merged incrementally must
give exactly what a full refresh gives (play rows and session ids), including a session that runs
across midnight into the new day and a late play older than the look-back window."""

from __future__ import annotations

import pandas as pd

from tests.support.marts import LISTENERS, MARTS, dbt, land_catalog

SELECT = ["--select", "+fct_plays", "+fct_sessions", "--exclude", "resource_type:snapshot"]
NO_LOOKBACK = {"lookback_days": 0}  # so the carried-session and late-play paths are what's tested
# the fixture listeners' files landed under listener ids of this test's own, so the Gold tests (which land
# the extra day for the fixture listeners) can run before or after this one in the same session
USERS = {f"{user}-incremental": (user, zone) for user, zone in LISTENERS.items()}


def land_history(spark, settings, suffix: str = "") -> None:
    from ingestion.history import ingest_history_paths

    for user, (folder, zone) in USERS.items():
        ingest_history_paths(spark, settings, [MARTS / f"{folder}{suffix}"], user=user, timezone=zone)


def _frames(spark) -> tuple[pd.DataFrame, pd.DataFrame]:
    users = ", ".join(f"'{u}'" for u in USERS)
    plays = spark.sql(f"select * from gold.fct_plays where user_id in ({users})").toPandas()
    sessions = spark.sql(f"select * from gold.fct_sessions where user_id in ({users})").toPandas()
    return (
        plays.sort_values("play_id").reset_index(drop=True)[sorted(plays.columns)],
        sessions.sort_values("session_id").reset_index(drop=True)[sorted(sessions.columns)],
    )


def test_incremental_run_after_one_more_day_equals_full_refresh(spark, settings):
    land_catalog(spark)
    land_history(spark, settings)
    dbt(settings, ["seed"])
    dbt(settings, ["run", *SELECT, "--full-refresh"], NO_LOOKBACK)
    before, _ = _frames(spark)
    version_before = spark.sql("describe history gold.fct_plays").agg({"version": "max"}).first()[0]

    land_history(spark, settings, "_day10")
    dbt(settings, ["run", *SELECT], NO_LOOKBACK)
    history = spark.sql("describe history gold.fct_plays").toPandas()
    assert "MERGE" in set(history[history["version"] > version_before]["operation"]), "fct_plays was not merged incrementally"
    incremental_plays, incremental_sessions = _frames(spark)

    dbt(settings, ["run", *SELECT, "--full-refresh"], NO_LOOKBACK)
    full_plays, full_sessions = _frames(spark)

    pd.testing.assert_frame_equal(incremental_plays, full_plays, check_like=False)
    pd.testing.assert_frame_equal(incremental_sessions, full_sessions, check_like=False)

    # the extra day really arrived: 15-16 plays per listener (13-14 new, 1 late), and the late play
    # from 2 March is older than the look-back window
    new = full_plays[~full_plays["play_id"].isin(before["play_id"])]
    assert set(new["user_id"]) == set(USERS)
    assert len(new) >= 2 * 7
    assert (new["local_date"].astype(str) < "2026-03-04").sum() == 2, "late plays missing"
    # the first play of the new day continues the session that started on the evening before
    for user in USERS:
        mine = full_plays[full_plays["user_id"] == user].sort_values("played_at")
        last_old = mine[mine["play_id"].isin(before["play_id"])].iloc[-1]
        first_new = mine[(~mine["play_id"].isin(before["play_id"])) & (mine["played_at"] > last_old["played_at"])].iloc[0]
        assert first_new["session_id"] == last_old["session_id"]
