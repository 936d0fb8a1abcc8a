"""Recently-played polling and saved responses on real Spark + Delta; only spotipy's HTTP is replayed.

The page bodies are recorded real responses (tests/fixtures/api/PROVENANCE.md). `responses` stands
in for the network; spotipy, its OAuth manager, its urllib3 retry configuration and all of our
code run for real.
"""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path

import pytest
import responses
from responses import matchers

from ingestion.api import (
    UNAVAILABLE,
    ApiAuthError,
    ingest_saved_responses,
    poll_recently_played,
    read_watermark,
    spotify_client,
    token_cache_path,
)
from ingestion.api_tables import AUDIO_FEATURES_TABLE, RECENTLY_PLAYED_TABLE, played_at_ms
from ingestion.history import IngestFailed
from tests.conftest import FIXTURES

API = FIXTURES / "api"
RECENT = "https://api.spotify.com/v1/me/player/recently-played"
FEATURES = re.compile(r"https://api\.spotify\.com/v1/audio-features.*")
TOKEN = "https://accounts.spotify.com/api/token"
CHEKOS_A = API / "recently_played_2023-10-12T01-32-08Z_b685aabdaa.json"
CHEKOS_B = API / "recently_played_2023-10-12T02-18-17Z_3f4094c0af.json"
EMPTY = API / "recently_played_2023-10-09T00-24-00Z_9d56472233.json"


def page(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"spotify_client_id": "test-client", "spotify_client_secret": "test-secret"})


def write_token(settings, user: str, expires_in: int = 3600) -> Path:
    path = token_cache_path(settings, user)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = {
        "access_token": "old-access", "token_type": "Bearer", "expires_in": expires_in,
        "scope": "user-read-recently-played", "expires_at": int(time.time()) + expires_in, "refresh_token": "refresh-1",
    }
    path.write_text(json.dumps(token))
    return path


def rows_for(spark, table: str, user: str) -> int:
    return spark.table(table).where(f"user_id = '{user}'").count()


@responses.activate
def test_poll_lands_page_moves_watermark_and_records_forbidden_features(spark, api_settings) -> None:
    user = "t-api-poll"
    write_token(api_settings, user)
    excerpt = page(API / "dark_eraser_recently_played_excerpt.json")
    responses.get(RECENT, json=excerpt, match=[matchers.query_param_matcher({"limit": "50"})])
    responses.get(FEATURES, status=403, json={"error": {"status": 403, "message": "Forbidden"}})
    outcome = poll_recently_played(spark, api_settings, user=user)
    assert rows_for(spark, RECENTLY_PLAYED_TABLE, user) == 4
    assert read_watermark(spark, user) == played_at_ms("2022-12-04T13:46:26.292Z") == outcome.watermark_ms
    assert outcome.features == {"unavailable": 4}
    looked_up = spark.table(AUDIO_FEATURES_TABLE).where("track_id = '73J0XZfBhvGgCloBnkXVCP'").collect()
    assert [(r["status"], r["http_status"], r["message"]) for r in looked_up] == [("unavailable", 403, UNAVAILABLE)]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer old-access"

    # the next poll asks for plays after the watermark minus the hour of overlap, and never looks up a track twice
    after = str(played_at_ms("2022-12-04T13:46:26.292Z") - 3600 * 1000)
    responses.get(RECENT, json=excerpt, match=[matchers.query_param_matcher({"limit": "50", "after": after})])
    again = poll_recently_played(spark, api_settings, user=user)
    assert again.results[0].inserted == 0 and again.features == {}
    assert rows_for(spark, RECENTLY_PLAYED_TABLE, user) == 4
    assert sum(1 for c in responses.calls if "audio-features" in c.request.url) == 1


@responses.activate
def test_audio_features_are_stored_when_the_app_may_use_them(spark, api_settings) -> None:
    user = "t-api-features"
    write_token(api_settings, user)
    responses.get(RECENT, json=page(API / "GetCurrentUsersRecentlyPlayedTracksRequest.json"))
    several = page(API / "GetAudioFeaturesForSeveralTracksRequest.json")
    recent_ids = [i["track"]["id"] for i in page(API / "GetCurrentUsersRecentlyPlayedTracksRequest.json")["items"]]
    # the recorded envelope, re-keyed to the ids this poll asks for (the fixture pair shares no ids)
    several["audio_features"] = [dict(several["audio_features"][0], id=recent_ids[0])]
    responses.get(FEATURES, json=several)
    outcome = poll_recently_played(spark, api_settings, user=user)
    assert outcome.features == {"ok": 1, "not_found": len(set(recent_ids)) - 1}
    row = spark.table(AUDIO_FEATURES_TABLE).where(f"track_id = '{recent_ids[0]}'").first()
    assert row["status"] == "ok" and row["danceability"] == pytest.approx(0.808) and row["key"] == 7


@responses.activate
def test_429_is_retried_after_retry_after(spark, api_settings) -> None:
    user = "t-api-429"
    write_token(api_settings, user)
    responses.get(RECENT, status=429, headers={"Retry-After": "1"}, json={"error": {"status": 429}})
    responses.get(RECENT, json=page(EMPTY))
    outcome = poll_recently_played(spark, api_settings, user=user)
    assert len([c for c in responses.calls if c.request.url.startswith(RECENT)]) == 2
    assert outcome.results[0].input_records == 0 and outcome.watermark_ms is None
    retry = spotify_client(api_settings, user)._session.get_adapter(RECENT).max_retries
    assert retry.respect_retry_after_header and 429 in retry.status_forcelist and retry.total >= 3


@responses.activate
def test_401_refreshes_once_and_the_token_cache_stays_private(spark, api_settings) -> None:
    user = "t-api-401"
    cache = write_token(api_settings, user)
    responses.get(RECENT, status=401, json={"error": {"status": 401, "message": "The access token expired"}})
    responses.post(TOKEN, json={"access_token": "new-access", "token_type": "Bearer", "expires_in": 3600,
                                "scope": "user-read-recently-played"})
    responses.get(RECENT, json=page(EMPTY))
    poll_recently_played(spark, api_settings, user=user)
    auths = [c.request.headers.get("Authorization") for c in responses.calls if c.request.url.startswith(RECENT)]
    assert auths == ["Bearer old-access", "Bearer new-access"]
    saved = json.loads(cache.read_text())
    assert saved["access_token"] == "new-access" and saved["refresh_token"] == "refresh-1"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


@responses.activate
def test_invalid_grant_says_how_to_reauthorise(spark, api_settings) -> None:
    user = "t-api-grant"
    write_token(api_settings, user)
    responses.get(RECENT, status=401, json={"error": {"status": 401, "message": "The access token expired"}})
    responses.post(TOKEN, status=400, json={"error": "invalid_grant", "error_description": "Refresh token revoked"})
    with pytest.raises(ApiAuthError, match=r"Re-authorise with: rm .*spotify-token-t-api-grant\.json && moodlake ingest api"):
        poll_recently_played(spark, api_settings, user=user)
    assert read_watermark(spark, user) is None


def test_missing_credentials_are_explained(spark, settings) -> None:
    with pytest.raises(ApiAuthError, match="MOODLAKE_SPOTIFY_CLIENT_ID"):
        poll_recently_played(spark, settings, user="t-api-nocreds")


def test_saved_overlapping_polls_load_once_in_any_order(spark, settings, tmp_path: Path) -> None:
    user = "t-api-saved"
    a, b = page(CHEKOS_A), page(CHEKOS_B)
    ids = {(i["played_at"], i["track"]["id"]) for i in a["items"] + b["items"]}
    assert len(ids) == len(a["items"]) + len(b["items"]) - 4  # the recorded overlap
    first = ingest_saved_responses(spark, settings, [CHEKOS_B, EMPTY, CHEKOS_A], user=user)
    landed = spark.table(RECENTLY_PLAYED_TABLE).where(f"user_id = '{user}'")
    distinct = landed.select("played_at", "track_id").distinct().count()
    assert distinct == len(ids) and landed.count() >= distinct
    assert first.watermark_ms == max(played_at_ms(p) for p, _ in ids) == read_watermark(spark, user)
    before = landed.count()
    second = ingest_saved_responses(spark, settings, [CHEKOS_A, CHEKOS_B, CHEKOS_A], user=user)
    assert sum(r.inserted for r in second.results) == 0 and landed.count() == before
    # a bad file is named; the good file of the same call still loads
    truncated = tmp_path / "cut.json"
    truncated.write_text(CHEKOS_A.read_text()[:5000])
    with pytest.raises(IngestFailed) as info:
        ingest_saved_responses(spark, settings, [truncated, API / "dark_eraser_recently_played_excerpt.json"], user=user)
    [(name, reason)] = info.value.failures
    assert name == str(truncated.resolve()) and "truncated JSON" in reason
    assert landed.count() == before + 4


def test_listener_ids_with_quotes_and_backslashes_are_values(spark, settings) -> None:
    """The watermark lookup compares the id as data: a quote or backslash neither breaks nor widens it."""
    tricky = "t-api-o'brien\\"
    assert read_watermark(spark, tricky) is None
    outcome = ingest_saved_responses(spark, settings, [CHEKOS_A], user=tricky)
    assert outcome.watermark_ms is not None and read_watermark(spark, tricky) == outcome.watermark_ms
    assert read_watermark(spark, "t-api-o'brien") is None and read_watermark(spark, "t-api-o") is None
