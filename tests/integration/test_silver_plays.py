"""Silver plays end to end: Bronze fixtures -> dbt (real Spark + Delta) -> int_plays_matched / int_play_drops.

Covers deduplication across sources and overlapping loads (each drop counted by reason), short
plays flagged not dropped, catalog matching by id and by normalised names, DST-correct local time,
the incremental post-hook that removes an API play once the export shows it, and the acceptance
numbers on ../shared/data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ingestion.api import ingest_saved_responses
from ingestion.catalog import ingest_catalog_files
from ingestion.history import ingest_history_paths
from moodlake.analytics.silver import silver_summary
from moodlake.app.console import print_silver_summary, recording_console
from moodlake.core.dbt import invoke_dbt
from tests.conftest import FIXTURES, shared_data

HISTORY = FIXTURES / "history"
API = FIXTURES / "api"
SELECT = ["+int_plays_matched", "+int_play_drops"]
T1 = "6f807x0ima9a1j3VPbc7VN"


def build(settings) -> None:
    outcome = invoke_dbt(settings, ["run", "-s", *SELECT])
    assert outcome.success, outcome.error or outcome.statuses


def api_page(tmp: Path, name: str, plays: list[tuple[str, str]], popularity: int = 50) -> Path:
    """A recorded real page (dark_eraser) with its items re-pointed at the given (track id, played_at)."""
    real = json.loads((API / "dark_eraser_recently_played_excerpt.json").read_text(encoding="utf-8"))
    items = []
    for (track_id, played_at), template in zip(plays, real["items"], strict=False):
        item = json.loads(json.dumps(template))
        item["played_at"] = played_at
        item["track"].update(id=track_id, uri=f"spotify:track:{track_id}", popularity=popularity)
        items.append(item)
    path = tmp / name
    path.write_text(json.dumps({**real, "items": items}), encoding="utf-8")
    return path


def plays(spark, user: str) -> list:
    return spark.table("silver.int_plays_matched").where(f"user_id = '{user}'").orderBy("played_at").collect()


def drops(spark, user: str) -> dict[tuple[str, str], int]:
    rows = spark.table("silver.int_play_drops").where(f"user_id = '{user}'").collect()
    return {(r["source"], r["reason"]): r["dropped_rows"] for r in rows}


@pytest.fixture(scope="module")
def silver(spark, settings, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("silver")
    ingest_catalog_files(spark, [HISTORY / "catalog_small.csv"])
    user = "t-silver"
    ingest_history_paths(spark, settings, [HISTORY / "extended", HISTORY / "account"], user=user, timezone="Europe/Berlin")
    ingest_history_paths(spark, settings, [HISTORY / "legacy"], user=None, timezone=None)
    # the API saw T1 12 s after the export's end, and one play the export does not have
    poll = api_page(tmp, "poll1.json", [(T1, "2024-03-31T00:33:12.345Z"), ("7vqcDtNvoJn5pXhktc8qe8", "2024-04-02T09:00:00.000Z")])
    ingest_saved_responses(spark, settings, [poll], user=user)
    # the same API play in two polls that differ in popularity: two Bronze rows, one play
    late = "t-late"
    ingest_saved_responses(spark, settings, [api_page(tmp, "late1.json", [(T1, "2024-03-31T00:33:05.000Z")], 50)], user=late)
    ingest_saved_responses(spark, settings, [api_page(tmp, "late2.json", [(T1, "2024-03-31T00:33:05.000Z")], 51)], user=late)
    build(settings)
    first_late = plays(spark, late)
    # the export arrives later: the incremental run keeps the export play and deletes the API one
    ingest_history_paths(spark, settings, [HISTORY / "extended"], user=late, timezone="UTC")
    build(settings)
    return {"user": user, "late": late, "first_late": first_late}


def test_plays_per_source_and_drop_reasons(spark, silver) -> None:
    rows = plays(spark, silver["user"])
    by_source: dict[str, int] = {}
    for r in rows:
        by_source[r["source"]] = by_source.get(r["source"], 0) + 1
    assert by_source == {"export_extended": 4, "export_account": 2, "api": 1}
    assert drops(spark, silver["user"]) == {
        ("export_extended", "duplicate_export_record"): 1,
        ("export_account", "seen_in_extended_export"): 1,
        ("api", "seen_in_export"): 1,
    }
    assert len({r["play_id"] for r in rows}) == len(rows)


def test_local_time_follows_the_zone_across_the_dst_change(spark, silver) -> None:
    rows = {(r["track_id"], r["source"]): r for r in plays(spark, silver["user"])}
    t1 = rows[(T1, "export_extended")]
    assert str(t1["played_at"]) == "2024-03-31 00:30:00" and str(t1["ended_at"]) == "2024-03-31 00:33:00"
    assert (t1["local_hour"], t1["timezone"], t1["local_weekday"], t1["is_weekend"]) == (1, "Europe/Berlin", 7, True)
    t2 = rows[("0r7CVbZTWZgbTCYdfa2P31", "export_extended")]
    assert str(t2["played_at_local"]) == "2024-03-31 03:32:30" and t2["local_hour"] == 3  # CEST from 01:00 UTC


def test_short_plays_are_flagged_not_dropped(spark, silver) -> None:
    rows = plays(spark, silver["user"])
    short = [(r["track_name"], r["source"], r["is_skipped"]) for r in rows if r["is_short_play"]]
    assert sorted(short) == [
        ("All the Time - Don Diablo Remix", "export_extended", True), ("Unknown Song", "export_account", True),
    ]


def test_catalog_matching_by_id_then_by_normalised_names(spark, silver) -> None:
    rows = plays(spark, silver["user"])
    methods = {(r["source"], r["track_name"]): (r["match_method"], r["match_confidence"], r["has_audio_features"]) for r in rows}
    assert methods[("export_extended", "I Don't Care (with Justin Bieber) - Loud Luxury Remix")] == ("track_id", 1.0, True)
    assert methods[("export_account", "I Don't Know - Remastered 2011")] == ("artist_title", 0.75, True)
    assert methods[("export_extended", "Unknown Song")] == ("none", None, False)
    erice = next(r for r in rows if r["track_name"] == "I Don't Know - Remastered 2011")
    assert erice["track_id"] == "1O7LD3kX8b75oLmHdCvGRb" and erice["source_track_id"] is None
    api = next(r for r in rows if r["source"] == "api")
    assert api["track_id"] == api["source_track_id"] == "7vqcDtNvoJn5pXhktc8qe8" and api["match_method"] == "none"


def test_every_play_has_a_match_level_and_feature_source(spark, silver) -> None:
    rows = plays(spark, silver["user"])
    levels = {(r["source"], r["track_name"]): (r["match_level"], r["feature_source"]) for r in rows}
    catalogs = {r["feature_source"] for r in spark.table("silver.int_tracks_deduplicated").select("feature_source").collect()}
    by_id = levels[("export_extended", "I Don't Care (with Justin Bieber) - Loud Luxury Remix")]
    by_name = levels[("export_account", "I Don't Know - Remastered 2011")]
    assert by_id[0] == "track_id" and by_name[0] == "track_name" and {by_id[1], by_name[1]} <= catalogs
    assert {level for level, _ in levels.values()} <= {"track_id", "track_name", "artist", "unknown"}
    for r in rows:
        track_level = r["match_level"] in ("track_id", "track_name")
        assert (r["feature_source"] is None) == (r["match_level"] == "unknown")
        assert (r["feature_source"] == "artist_estimate") == (r["match_level"] == "artist")
        assert r["has_audio_features"] <= track_level


def test_legacy_export_plays_and_listener_default(spark, silver) -> None:
    rows = plays(spark, "fixture-legacy")
    assert [(r["ms_played"], r["is_skipped"], r["platform"].startswith("Android OS")) for r in rows] == [
        (20000, True, True), (200000, False, True),
    ]
    assert {r["timezone"] for r in rows} == {"Europe/Berlin"}  # settings default


def test_incremental_run_removes_an_api_play_once_the_export_has_it(spark, silver) -> None:
    assert [(r["source"], r["track_id"]) for r in silver["first_late"]] == [("api", T1)]
    rows = plays(spark, silver["late"])
    assert [r["source"] for r in rows] == ["export_extended"] * 4
    assert drops(spark, silver["late"]) == {
        ("api", "overlapping_poll"): 1, ("api", "seen_in_export"): 1, ("export_extended", "duplicate_export_record"): 1,
    }


def test_summary_prints_counts_and_every_drop_reason(spark, silver) -> None:
    console = recording_console(width=200)
    print_silver_summary(console, silver_summary(spark, [silver["user"]]))
    text = console.export_text()
    for expected in ("export_extended", "duplicate_export_record", "seen_in_extended_export", "seen_in_export", "t-silver"):
        assert expected in text


@pytest.mark.shared_data
def test_shared_acceptance_numbers(spark, settings) -> None:
    polls = sorted(shared_data("api_recently_played_snapshots_chekos_2023w41").glob("recently_played_*.json"))
    extended = shared_data("history_extended_efrrowini")
    catalog = shared_data("catalog_tidytuesday_spotify_songs") / "spotify_songs.csv"
    assert len(polls) == 168
    shuffled = polls[:]
    random.Random(7).shuffle(shuffled)
    ingest_saved_responses(spark, settings, shuffled, user="t-chekos")
    ingest_saved_responses(spark, settings, polls[::-1] + polls[:40], user="t-chekos")
    ingest_catalog_files(spark, [catalog])
    ingest_history_paths(spark, settings, [extended], user="t-efrrowini", timezone="Asia/Kolkata")
    build(settings)
    assert spark.table("silver.int_plays_matched").where("user_id = 't-chekos'").count() == 229
    efr = spark.table("silver.int_plays_matched").where("user_id = 't-efrrowini'")
    assert efr.count() == 6928  # 6,929 music records, 1 exact duplicate
    assert drops(spark, "t-efrrowini") == {("export_extended", "duplicate_export_record"): 1}
    id_tracks = efr.where("match_method = 'track_id'").select("track_id").distinct().count()
    assert id_tracks >= 193
    covered = efr.where("has_audio_features").count()
    assert covered >= 1640  # every play of those 193 tracks, plus name matches
