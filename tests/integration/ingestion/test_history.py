"""Privacy-export history -> Bronze on real Spark + Delta: detection by content, idempotency, bad files."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from ingestion.formats import ACCOUNT_TABLE, EXTENDED_TABLE
from ingestion.history import IngestFailed, ingest_history_paths, load_history
from tests.conftest import FIXTURES, shared_data

HISTORY = FIXTURES / "history"


def rows_for(spark, table: str, user: str) -> int:
    return spark.table(table).where(f"user_id = '{user}'").count()


def test_extended_history_lands_every_audio_record_with_lineage(spark, settings) -> None:
    results = ingest_history_paths(spark, settings, [HISTORY / "extended"], user="t-ext", timezone="Europe/Berlin")
    by_file = {Path(r.source_file).name: r for r in results}
    audio = by_file["Streaming_History_Audio_2024_0.json"]
    assert (audio.input_records, audio.inserted, audio.quarantined) == (7, 7, 0)
    video = by_file["Streaming_History_Video_2024.json"]
    assert video.inserted == 0 and video.skipped == {"video": 2}
    frame = spark.table(EXTENDED_TABLE).where("user_id = 't-ext'")
    assert frame.count() == 7  # the exact duplicate inside the file is kept in Bronze (Silver drops it)
    kinds = {r["content_type"]: r["count"] for r in frame.groupBy("content_type").count().collect()}
    assert kinds == {"music": 5, "podcast": 1, "audiobook": 1}
    row = frame.where("ts = '2024-03-31T00:33:00Z'").first()
    assert row["ms_played"] == 180000 and row["key_set"] == "current" and row["offline_timestamp"] == 1711845000
    assert row["_source_file"].endswith("Streaming_History_Audio_2024_0.json") and row["_line"] == 27
    listener = spark.table("bronze.listeners").where("user_id = 't-ext'").first()
    assert listener["timezone"] == "Europe/Berlin" and listener["is_demo"] is False


def test_reingest_adds_nothing_and_keeps_the_listener_zone(spark, settings) -> None:
    ingest_history_paths(spark, settings, [HISTORY / "account"], user="t-again", timezone="America/New_York")
    again = ingest_history_paths(spark, settings, [HISTORY / "account"], user="t-again", timezone=None)
    assert sum(r.inserted for r in again) == 0 and sum(r.already_present for r in again) == 4
    assert rows_for(spark, ACCOUNT_TABLE, "t-again") == 4
    assert spark.table("bronze.listeners").where("user_id = 't-again'").first()["timezone"] == "America/New_York"


def test_format_is_detected_by_content_not_name(spark, settings, tmp_path: Path) -> None:
    # an account-data file under an extended-history name, a legacy endsong file under a neutral one
    shutil.copy(HISTORY / "account" / "StreamingHistory_music_0.json", tmp_path / "Streaming_History_Audio_2020.json")
    shutil.copy(HISTORY / "legacy" / "endsong_0.json", tmp_path / "export.json")
    results = ingest_history_paths(spark, settings, [tmp_path], user="t-detect", timezone=None)
    tables = {Path(r.source_file).name: r.table for r in results}
    assert tables == {"Streaming_History_Audio_2020.json": ACCOUNT_TABLE, "export.json": EXTENDED_TABLE}
    legacy = spark.table(EXTENDED_TABLE).where("user_id = 't-detect'").orderBy("ts").collect()
    assert [r["key_set"] for r in legacy] == ["legacy", "legacy"]
    assert legacy[0]["skipped"] is None and legacy[0]["offline_timestamp"] == 1546300800000
    assert spark.table("bronze.listeners").where("user_id = 't-detect'").first()["timezone"] == settings.timezone


def test_user_defaults_to_the_exports_username(spark, settings) -> None:
    outcome = load_history(spark, settings, [HISTORY / "legacy" / "endsong_0.json"], user=None, timezone=None)
    assert outcome.users == {"fixture-legacy"}


def test_bad_files_fail_by_name_and_the_others_still_load(spark, settings, tmp_path: Path) -> None:
    bad = HISTORY / "bad"
    good = tmp_path / "Streaming_History_Audio_ok.json"
    shutil.copy(HISTORY / "extended" / "Streaming_History_Audio_2024_0.json", good)
    paths = [bad / "malformed.json", bad / "truncated.json", good, bad / "Playlist1.json"]
    with pytest.raises(IngestFailed) as info:
        ingest_history_paths(spark, settings, paths, user="t-bad", timezone=None)
    failures = dict(info.value.failures)
    assert set(failures) == {str((bad / n).resolve()) for n in ("malformed.json", "truncated.json", "Playlist1.json")}
    assert "malformed JSON at line 2" in failures[str((bad / "malformed.json").resolve())]
    assert "truncated JSON" in failures[str((bad / "truncated.json").resolve())]
    assert "playlists file" in failures[str((bad / "Playlist1.json").resolve())]
    assert info.value.exit_code == 1 and "3 file(s) failed" in str(info.value)
    landed = spark.table(EXTENDED_TABLE).where("user_id = 't-bad'")
    assert landed.count() == 7  # the good file, whole
    assert landed.where(f"_source_file = '{good.resolve()}'").count() == 7


def test_bad_rows_are_quarantined_with_line_and_field(spark, settings) -> None:
    path = HISTORY / "quarantine" / "Streaming_History_Audio_bad_row.json"
    [result] = ingest_history_paths(spark, settings, [path], user="t-quarantine", timezone=None)
    assert (result.input_records, result.inserted, result.quarantined) == (3, 1, 2)
    rejected = spark.table("bronze.quarantine").where(f"_source_file = '{path.resolve()}'").orderBy("_line").collect()
    assert [(r["_line"], r["field"]) for r in rejected] == [(27, "ms_played"), (52, "ts")]
    assert "not a whole number" in rejected[0]["reason"]


def test_export_zip_loads_history_and_ignores_other_export_files(spark, settings, tmp_path: Path) -> None:
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(HISTORY / "account" / "StreamingHistory_music_0.json", "MyData/StreamingHistory_music_0.json")
        zf.write(HISTORY / "account" / "StreamingHistory_podcast_0.json", "MyData/StreamingHistory_podcast_0.json")
        zf.write(HISTORY / "bad" / "Playlist1.json", "MyData/Playlist1.json")
        zf.writestr("MyData/ReadMeFirst.pdf", b"%PDF")
    outcome = load_history(spark, settings, [archive], user="t-zip", timezone=None)
    assert not outcome.failures
    assert [n.rsplit("/", 2)[-2:] for n, _ in outcome.ignored] == [["my_spotify_data.zip!MyData", "Playlist1.json"]]
    assert "playlists file" in outcome.ignored[0][1]
    frame = spark.table(ACCOUNT_TABLE).where("user_id = 't-zip'")
    kinds = {r["content_type"]: r["count"] for r in frame.groupBy("content_type").count().collect()}
    assert kinds == {"music": 3, "podcast": 1}
    assert all("!MyData/" in r["_source_file"] for r in frame.collect())


def test_missing_path_and_wrong_api_file_are_reported(spark, settings, tmp_path: Path) -> None:
    api_page = tmp_path / "recent.json"
    api_page.write_text(json.dumps({"items": [], "next": None, "cursors": None, "limit": 50, "href": "x"}))
    with pytest.raises(IngestFailed) as info:
        ingest_history_paths(spark, settings, [tmp_path / "nope.json", api_page], user="t-missing", timezone=None)
    reasons = dict(info.value.failures)
    assert "file not found" in reasons[str(tmp_path / "nope.json")]
    assert "ingest api-responses" in reasons[str(api_page.resolve())]


@pytest.mark.shared_data
def test_shared_exports_land_every_record_once(spark, settings) -> None:
    extended = shared_data("history_extended_efrrowini")
    account = shared_data("history_account_lukaszamora")
    first = ingest_history_paths(spark, settings, [extended, account], user=None, timezone="Asia/Kolkata")
    audio = [r for r in first if "Audio" in r.source_file]
    video = [r for r in first if "Video" in r.source_file]
    acct = [r for r in first if r.table == ACCOUNT_TABLE]
    assert sum(r.input_records for r in audio) == 6978 and sum(r.inserted + r.already_present for r in audio) == 6978
    assert sum(r.skipped.get("video", 0) for r in video) == 29
    assert sum(r.inserted + r.already_present for r in acct) == 33489
    assert rows_for(spark, EXTENDED_TABLE, "history_extended_efrrowini") == 6978
    assert rows_for(spark, ACCOUNT_TABLE, "history_account_lukaszamora") == 33489
    again = ingest_history_paths(spark, settings, [extended, account], user=None, timezone=None)
    assert sum(r.inserted for r in again) == 0
    assert rows_for(spark, EXTENDED_TABLE, "history_extended_efrrowini") == 6978
    assert rows_for(spark, ACCOUNT_TABLE, "history_account_lukaszamora") == 33489
