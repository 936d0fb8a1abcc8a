"""Coverage: the matching ladder end to end, every play counted by the marts that need no audio features,
a second catalog that disagrees with the first, and a home whose catalog table is empty.

A listener of its own (`fixture-coverage`) plays catalog tracks by id, by name only (also through a
featured artist of a track only the second catalog has), tracks of catalog artists the catalog lacks
(artist level) and music the catalog has never heard of (unknown). The empty-catalog build runs first
and restores the catalog table afterwards (Delta RESTORE), so the shared Gold the later tests read is
built from the full fixtures.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.support import marts as gold_support
from tests.support.marts import CATALOG, LISTENERS, dbt, land_catalog, land_history

USER = "fixture-coverage"
SECOND = "fixture-second"  # catalog_name of the second catalog's rows (when Bronze has the column)
UNKNOWN_URI = "spotify:track:{:022d}"
NO_FEATURE_MARTS = ["mart_hour_weekday_profile", "mart_daypart_mood", "mart_daily_mood", "fct_sessions"]


def _catalog_rows() -> list[dict[str, str]]:
    with CATALOG.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _record(ts: str, artist: str, track: str, uri: str, ms: int) -> dict:
    return {
        "ts": ts, "username": USER, "platform": "linux", "ms_played": ms, "conn_country": "DE",
        "master_metadata_track_name": track, "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": None, "spotify_track_uri": uri, "episode_name": None,
        "episode_show_name": None, "spotify_episode_uri": None, "reason_start": "trackdone",
        "reason_end": "trackdone", "shuffle": False, "skipped": False, "offline": False,
        "incognito_mode": False,
    }


def _coverage_history(folder: Path) -> dict[str, int]:
    """The coverage listener's export; returns the expected plays per match level."""
    rows = _catalog_rows()
    by_id, by_name = rows[4], rows[5]
    records, n = [], 0

    def play(day: str, artist: str, track: str, uri: str, ms: int) -> None:
        nonlocal n
        n += 1
        records.append(_record(f"{day}T{8 + n // 60:02d}:{n % 60:02d}:00Z", artist, track, uri, ms))

    for day in ("2025-12-30", "2026-01-02"):
        play(day, by_id["track_artist"], by_id["track_name"], f"spotify:track:{by_id['track_id']}", 150000)
        play(day, by_name["track_artist"], by_name["track_name"], UNKNOWN_URI.format(1), 150000)
        play(day, "Fixture Guest", "Second Catalog Song", UNKNOWN_URI.format(2), 150000)
        play(day, by_id["track_artist"], "A Song No Catalog Has", UNKNOWN_URI.format(3), 200000)
        for k in range(3):
            play(day, "Nobody Band", "Nothing Song", UNKNOWN_URI.format(4), 400000 + k)
            play(day, "Nobody Band", "Other Nothing", UNKNOWN_URI.format(5), 100000)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Streaming_History_Audio_2025-2026_0.json").write_text(json.dumps(records), encoding="utf-8")
    return {"track_id": 2, "track_name": 4, "artist": 2, "unknown": 12}


def _land_second_catalog(spark) -> tuple[str, list[str]]:
    """Copies of two fixture tracks from a second catalog (one feature missing, so they never win, other
    popularity and energy: conflicts) and one track only that catalog has, credited to two artists."""
    from pyspark.sql import functions as F

    table = spark.table("bronze.catalog_tracks")
    has_name = "catalog_name" in [c.lower() for c in table.columns]
    if table.where("_source_file = 'fixture-second'").count():
        return (SECOND if has_name else "kaggle_tracks"), [r["track_id"] for r in _catalog_rows()[-2:]]
    ids = list(dict.fromkeys(r["track_id"] for r in _catalog_rows()))[-2:]
    base = table.where(F.col("track_id").isin(ids)).dropDuplicates(["track_id"])
    copies = (
        base.withColumn("tempo", F.lit(None).cast("double"))
        .withColumn("popularity", ((F.col("popularity") + 1) % 101).cast("int"))
        .withColumn("energy", F.when(F.col("energy") > 0.5, F.col("energy") - 0.25).otherwise(F.col("energy") + 0.25))
        .withColumn("genre", F.lit(None).cast("string"))
        .withColumn("subgenre", F.lit(None).cast("string"))
    )
    only = (
        base.limit(1)
        .withColumn("track_id", F.lit("FixtureSecondOnly00001"))
        .withColumn("track_name", F.lit("Second Catalog Song"))
        .withColumn("artists", F.lit("Someone Else;Fixture Guest"))
        .withColumn("genre", F.lit(None).cast("string"))
        .withColumn("subgenre", F.lit(None).cast("string"))
    )
    rows = copies.unionByName(only).withColumn("source_layout", F.lit("kaggle_tracks"))
    rows = rows.withColumn("_source_file", F.lit("fixture-second")).withColumn("_ingested_at", F.current_timestamp())
    rows = rows.withColumn("_record_hash", F.sha2(F.concat_ws("|", F.lit("fixture-second"), "track_id"), 256))
    if has_name:
        rows = rows.withColumn("catalog_name", F.lit(SECOND))
    if "artist_genres" in [c.lower() for c in table.columns]:
        rows = rows.withColumn("artist_genres", F.lit("['acid jazz', 'techno']"))
    rows.select(*table.columns).write.insertInto("bronze.catalog_tracks")
    return (SECOND if has_name else "kaggle_tracks"), ids


def _land(spark, settings, tmp: Path) -> dict[str, int]:
    from ingestion.history import ingest_history_paths

    expected = _coverage_history(tmp / USER)
    land_catalog(spark)
    land_history(spark, settings)
    land_history(spark, settings, "_day10")
    ingest_history_paths(spark, settings, [tmp / USER], user=USER, timezone="Europe/Berlin")
    return expected


def _users_sql() -> str:
    return ", ".join(f"'{u}'" for u in [*LISTENERS, USER])


def _gold(spark, name: str) -> pd.DataFrame:
    return spark.sql(f"select * from gold.{name} where user_id in ({_users_sql()})").toPandas()


def test_everything_builds_on_an_empty_catalog(spark, settings, tmp_path_factory):
    """A history-only home: the catalog table exists and is empty; every play is 'unknown' and still counted."""
    _land(spark, settings, tmp_path_factory.mktemp("coverage_empty"))
    version = spark.sql("describe history bronze.catalog_tracks").agg({"version": "max"}).first()[0]
    spark.sql("delete from bronze.catalog_tracks")
    try:
        dbt(settings, ["seed"])
        dbt(settings, ["build", "--full-refresh", "--exclude", "resource_type:snapshot", "--exclude-resource-type", "unit_test"])
        assert spark.table("gold.dim_tracks").count() == 0
        plays = _gold(spark, "fct_plays")
        silver = spark.sql(f"select user_id from silver.int_plays_matched where user_id in ({_users_sql()})").toPandas()
        assert plays.groupby("user_id").size().to_dict() == silver.groupby("user_id").size().to_dict()
        assert set(plays["match_level"]) == {"unknown"} and not plays["has_audio_features"].any()
        assert plays["feature_source"].isna().all() and plays["artist_est_valence"].isna().all()
        coverage = _gold(spark, "mart_listening_coverage")
        unknown = coverage[coverage["match_level"] == "unknown"]
        assert (unknown["play_share"] == 1.0).all() and len(coverage) == 4 * len(unknown)
        for name in NO_FEATURE_MARTS:
            frame = _gold(spark, name)
            assert frame.groupby("user_id")["plays"].sum().to_dict() == plays.groupby("user_id").size().to_dict(), name
        top = _gold(spark, "mart_unmatched_top")
        assert set(top["match_level"]) == {"unknown"} and set(top["user_id"]) == {*LISTENERS, USER}
    finally:
        spark.sql(f"restore table bronze.catalog_tracks to version as of {version}")
        gold_support._STATE["built"] = False  # the next build_gold rebuilds Gold from the restored catalog


@pytest.fixture(scope="module")
def coverage(spark, settings, tmp_path_factory):
    expected = _land(spark, settings, tmp_path_factory.mktemp("coverage"))
    second, conflict_ids = _land_second_catalog(spark)
    gold_support._STATE["built"] = False
    gold_support.build_gold(spark, settings)
    return {"expected": expected, "second": second, "conflict_ids": conflict_ids}


def test_every_play_has_a_level_and_the_ladder_matches(spark, coverage):
    plays = _gold(spark, "fct_plays")
    assert plays["match_level"].notna().all()
    mine = plays[plays["user_id"] == USER]
    assert mine.groupby("match_level").size().to_dict() == coverage["expected"]
    track_level = mine["match_level"].isin(["track_id", "track_name"])
    assert mine.loc[track_level, "valence"].notna().all() and mine.loc[~track_level, "valence"].isna().all()
    assert mine.loc[~track_level, "has_audio_features"].eq(False).all()
    assert (mine.loc[mine["match_level"] == "artist", "feature_source"] == "artist_estimate").all()
    assert mine.loc[mine["match_level"] == "artist", "artist_est_valence"].notna().all()
    assert mine.loc[mine["match_level"] == "unknown", "feature_source"].isna().all()
    # the featured artist of a track only the second catalog has matches it by name
    guest = mine[mine["artist_name"] == "Fixture Guest"]
    assert set(guest["track_id"]) == {"FixtureSecondOnly00001"} and set(guest["feature_source"]) == {coverage["second"]}


def test_marts_without_features_count_every_play(spark, coverage):
    plays = _gold(spark, "fct_plays")
    silver = spark.sql(f"select * from silver.int_plays_matched where user_id in ({_users_sql()})").toPandas()
    per_user = plays.groupby("user_id").size().to_dict()
    minutes = (plays.groupby("user_id")["ms_played"].sum() / 60000).to_dict()
    assert per_user == silver.groupby("user_id").size().to_dict()
    assert (plays["match_level"] == "unknown").sum() >= coverage["expected"]["unknown"]
    for name in NO_FEATURE_MARTS:
        frame = _gold(spark, name)
        assert frame.groupby("user_id")["plays"].sum().to_dict() == per_user, name
        assert frame.groupby("user_id")["minutes"].sum().to_dict() == pytest.approx(minutes), name
    years = plays.assign(year=pd.to_datetime(plays["local_date"]).dt.year).groupby(["user_id", "year"])
    recap = _gold(spark, "mart_yearly_recap").drop_duplicates(["user_id", "recap_year"]).set_index(["user_id", "recap_year"])
    assert recap["year_plays"].to_dict() == years.size().to_dict()
    assert recap["year_minutes"].to_dict() == pytest.approx((years["ms_played"].sum() / 60000).to_dict())
    # the most-played artist of the coverage listener is one the catalog has never heard of
    top = _gold(spark, "mart_yearly_recap").query(
        f"user_id == '{USER}' and category == 'artist' and ranked_by == 'minutes' and item_rank == 1"
    )
    assert set(top["item_name"]) == {"Nobody Band"}
    streaks = _gold(spark, "mart_low_valence_streaks")
    daily = _gold(spark, "mart_daily_mood").set_index(["user_id", "local_date"])["plays"]
    for _, streak in streaks.iterrows():
        days = pd.date_range(streak["started_on"], streak["ended_on"]).date
        assert streak["plays"] == sum(daily[(streak["user_id"], d)] for d in days)


def test_coverage_mart_adds_up_per_listener_year(spark, coverage):
    plays = _gold(spark, "fct_plays")
    cov = _gold(spark, "mart_listening_coverage")
    assert (cov.groupby(["user_id", "local_year"])["match_level"].nunique() == 4).all()
    expected = plays.assign(local_year=pd.to_datetime(plays["local_date"]).dt.year).groupby(
        ["user_id", "local_year", "match_level"]
    ).agg(plays=("play_id", "size"), ms=("ms_played", "sum"))
    got = cov.set_index(["user_id", "local_year", "match_level"])
    assert got.loc[expected.index, "plays"].to_dict() == expected["plays"].to_dict()
    assert got.loc[expected.index, "minutes"].to_dict() == pytest.approx((expected["ms"] / 60000).to_dict())
    assert got.loc[~got.index.isin(expected.index), "plays"].eq(0).all()
    shares = cov.groupby(["user_id", "local_year"])[["play_share", "minute_share"]].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
    mine = cov[cov["user_id"] == USER]
    assert set(mine["local_year"]) == {2025, 2026}
    assert mine.groupby("match_level")["plays"].sum().to_dict() == coverage["expected"]


def test_unmatched_top_ranks_artists_and_tracks_without_a_track_match(spark, coverage):
    top = _gold(spark, "mart_unmatched_top")
    mine = top[top["user_id"] == USER]
    artists = mine[mine["kind"] == "artist"].sort_values("rank")
    tracks = mine[mine["kind"] == "track"].sort_values("rank")
    assert artists.iloc[0][["artist_name", "match_level", "plays"]].tolist() == ["Nobody Band", "unknown", 12]
    assert artists["track_name"].isna().all() and list(artists["rank"]) == list(range(1, len(artists) + 1))
    assert tracks.iloc[0][["artist_name", "track_name", "plays"]].tolist() == ["Nobody Band", "Nothing Song", 6]
    deep_cut = tracks[tracks["track_name"] == "A Song No Catalog Has"]
    assert deep_cut["match_level"].tolist() == ["artist"]
    assert mine["minutes"].sum() > 0 and (top["rank"] <= 20).all()


def test_catalogs_are_unioned_by_precedence_and_conflicts_counted(spark, coverage):
    second, ids = coverage["second"], coverage["conflict_ids"]
    tracks = spark.table("gold.dim_tracks").where(f"track_id in ('{ids[0]}', '{ids[1]}')").toPandas()
    assert len(tracks) == 2 and tracks["tempo"].notna().all()  # the row with every feature wins
    assert all(second in names for names in tracks["catalog_names"])
    assert second not in set(tracks["feature_source"])
    assert spark.table("silver.int_tracks_deduplicated").groupBy("track_id").count().where("count > 1").count() == 0
    conflicts = spark.table("silver.int_catalog_conflicts").toPandas()
    # other tests of the session may land more catalogs with these ids: look at the second catalog vs each winner
    winners = dict(zip(tracks["track_id"], tracks["feature_source"], strict=True))
    for track_id, winner in winners.items():
        pair = sorted([winner, second])
        mine = conflicts[(conflicts["track_id"] == track_id) & (conflicts["catalog_a"] == pair[0])
                         & (conflicts["catalog_b"] == pair[1])]
        assert len(mine) == 1, (track_id, pair)
        fields = mine["differing_fields"].iloc[0]
        assert {"popularity", "energy"} <= set(fields) and "tempo" not in fields
    first = tracks["feature_source"].iloc[0]
    won_by_first = sum(winner == first for winner in winners.values())
    catalog_a, catalog_b = sorted([first, second])
    pairs = spark.table("gold.mart_catalog_conflicts").toPandas().set_index(["catalog_a", "catalog_b"])
    row = pairs.loc[(catalog_a, catalog_b)]
    in_pair = conflicts[(conflicts["catalog_a"] == catalog_a) & (conflicts["catalog_b"] == catalog_b)]
    assert row["conflicting_tracks"] == len(in_pair) >= won_by_first and row["shared_tracks"] >= row["conflicting_tracks"]
    assert row["popularity_conflicts"] >= won_by_first and row["energy_conflicts"] >= won_by_first
    assert row["tempo_conflicts"] == sum("tempo" in f for f in in_pair["differing_fields"])
    preferred = "catalog_b_preferred_tracks" if catalog_b == first else "catalog_a_preferred_tracks"
    assert row[preferred] >= won_by_first
