"""`moodlake ingest api` and `ingest api-responses`: recently-played plays from the Spotify Web API.

Live polls and saved responses take the same path, :func:`land_page`: parse the page, land it in
``bronze.spotify_recently_played`` (one Delta commit), and only then move the listener's ``after``
watermark. A crash between the two therefore re-reads a page (harmless: Bronze is idempotent by
content and Silver deduplicates plays) and never skips one. Polls start an hour before the
watermark on purpose: the API returns at most 50 plays and sometimes reports a play late.

HTTP goes through spotipy: OAuth (scope ``user-read-recently-played``) with the token cached under
``$MOODLAKE_HOME/secrets`` (mode 0600), 429 ``Retry-After`` honoured by spotipy's urllib3 retry
configuration, one refresh on 401, and ``invalid_grant`` turned into "re-authorise with ...".

Spotify's Developer Policy: API data feeds the listener's analytics only; ML trains on the public
catalog and the listener's own privacy export (docs/INGESTION.md).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ingestion.api_tables import (
    AUDIO_FEATURES_SCHEMA,
    AUDIO_FEATURES_TABLE,
    WATERMARKS_SCHEMA,
    WATERMARKS_TABLE,
    ApiResponseError,
    audio_features_row,
    ensure_api_tables,
    parse_recently_played,
    played_at_ms,
)
from ingestion.bronze import LandResult, ParsedFile, canonical_json, land, record_hashes
from ingestion.formats import HistoryFormatError, iter_json_array, looks_truncated
from ingestion.history import upsert_listener
from moodlake.core.errors import ApiAuthError, IngestFailed
from moodlake.core.settings import Settings

SCOPE = "user-read-recently-played"
PAGE_LIMIT = 50
OVERLAP_MS = 3600 * 1000  # re-read the hour before the watermark: late and overlapping plays are deduplicated
MAX_PAGES = 20
UNAVAILABLE = "unavailable for this app"
DEFAULT_USER = "me"


@dataclass
class ApiOutcome:
    """What one poll or one batch of saved responses did."""

    results: list[LandResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    watermark_ms: int | None = None
    features: dict[str, int] = field(default_factory=dict)


# ---- watermark -------------------------------------------------------------------------------------
def read_watermark(spark: SparkSession, user_id: str) -> int | None:
    ensure_api_tables(spark)
    # a Column comparison, not SQL text: the listener id is data, never spliced into a string
    row = spark.table(WATERMARKS_TABLE).where(F.col("user_id") == F.lit(user_id)).select("after_ms").first()
    return int(row["after_ms"]) if row else None


def advance_watermark(spark: SparkSession, user_id: str, newest: str, source: str) -> int:
    """Move the cursor forward only (never back), after the page's Bronze commit."""
    from delta.tables import DeltaTable

    after = played_at_ms(newest)
    row = {
        "user_id": user_id, "after_ms": after, "newest_played_at": newest, "_source_file": source, "_line": None,
        "_ingested_at": datetime.now(UTC).replace(tzinfo=None), "_batch_id": uuid.uuid4().hex,
        "_record_hash": record_hashes(WATERMARKS_TABLE, [user_id])[0],
    }
    frame = spark.createDataFrame([row], WATERMARKS_SCHEMA)
    (
        DeltaTable.forName(spark, WATERMARKS_TABLE).alias("t")
        .merge(frame.alias("s"), "t.user_id = s.user_id")
        .whenMatchedUpdateAll(condition="s.after_ms > t.after_ms")
        .whenNotMatchedInsertAll()
        .execute()
    )
    return after


# ---- the shared path -------------------------------------------------------------------------------
def land_page(spark: SparkSession, page: Any, source: str, user_id: str, outcome: ApiOutcome) -> ParsedFile:
    """Parse a whole page, land it, then advance the watermark: the order is the guarantee."""
    parsed = parse_recently_played(page, source, user_id)
    outcome.results.append(land(spark, parsed))
    outcome.users.add(user_id)
    if parsed.rows:
        newest = max(parsed.rows, key=lambda r: played_at_ms(r["played_at"]))["played_at"]
        moved = advance_watermark(spark, user_id, newest, source)
        outcome.watermark_ms = max(outcome.watermark_ms or 0, moved)  # pages may come in any order
    return parsed


def tracks_needing_features(spark: SparkSession, track_ids: set[str]) -> list[str]:
    """Landed API tracks that neither the catalog nor an earlier lookup covers (tried once only)."""
    if not track_ids:
        return []
    known: set[str] = set()
    wanted = spark.createDataFrame([(t,) for t in sorted(track_ids)], "track_id string")
    for table in ("bronze.catalog_tracks", AUDIO_FEATURES_TABLE):
        if spark.catalog.tableExists(table):
            found = wanted.join(spark.table(table).select("track_id"), "track_id", "left_semi").collect()
            known |= {r["track_id"] for r in found}
    return sorted(track_ids - known)


def lookup_audio_features(
    spark: SparkSession, fetch: Callable[[list[str]], Any], track_ids: list[str], source: str,
) -> dict[str, int]:
    """Try /audio-features once per track; a 403 is recorded as "unavailable for this app", never raised."""
    from spotipy.exceptions import SpotifyException

    parsed = ParsedFile(table=AUDIO_FEATURES_TABLE, schema=AUDIO_FEATURES_SCHEMA, source_file=source)
    counts: dict[str, int] = {}
    for start in range(0, len(track_ids), 100):
        batch = track_ids[start : start + 100]
        try:
            payload = fetch(batch)
            items = payload.get("audio_features", payload) if isinstance(payload, dict) else payload
            items = list(items or [])
        except SpotifyException as exc:
            if exc.http_status in (401, 403):
                rows = [audio_features_row(t, None, "unavailable", exc.http_status, UNAVAILABLE) for t in batch]
            else:
                counts["error"] = counts.get("error", 0) + len(batch)
                continue  # not recorded: a transient failure may be retried by the next poll
        else:
            by_id = {i.get("id"): i for i in items if isinstance(i, dict)}
            rows = [
                audio_features_row(t, by_id[t], "ok", 200, None) if t in by_id
                else audio_features_row(t, None, "not_found", 200, "no audio features for this track")
                for t in batch
            ]
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            parsed.add(row, canonical_json({k: v for k, v in row.items() if k != "raw_response"}), None)
    if parsed.rows:
        land(spark, parsed)
    return counts


# ---- spotipy ---------------------------------------------------------------------------------------
def token_cache_path(settings: Settings, user_id: str) -> Path:
    return settings.secrets_dir / f"spotify-token-{user_id}.json"


def _cache_handler(path: Path) -> Any:
    """spotipy's file cache, written 0600 from the first byte (no window where others can read it)."""
    from spotipy.cache_handler import CacheFileHandler

    class PrivateCacheFileHandler(CacheFileHandler):
        def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token_info, handle)
            os.chmod(path, 0o600)

    return PrivateCacheFileHandler(cache_path=str(path))


def spotify_client(settings: Settings, user_id: str) -> Any:
    """An authorised spotipy client; 429/5xx retried by urllib3 (Retry-After honoured)."""
    import spotipy
    from spotipy.oauth2 import SpotifyOAuth

    if not settings.spotify_client_id or not settings.spotify_client_secret:
        raise ApiAuthError(
            "Spotify API credentials are not set: create an app at https://developer.spotify.com/dashboard, "
            "then set MOODLAKE_SPOTIFY_CLIENT_ID and MOODLAKE_SPOTIFY_CLIENT_SECRET "
            f"(redirect URI {settings.spotify_redirect_uri})."
        )
    settings.ensure_dirs()
    auth = SpotifyOAuth(
        client_id=settings.spotify_client_id,
        client_secret=settings.spotify_client_secret,
        redirect_uri=settings.spotify_redirect_uri,
        scope=SCOPE,
        cache_handler=_cache_handler(token_cache_path(settings, user_id)),
        open_browser=False,
    )
    return spotipy.Spotify(auth_manager=auth, retries=5, status_retries=5, backoff_factor=0.5, requests_timeout=20)


def reauthorise_message(settings: Settings, user_id: str) -> str:
    cache = token_cache_path(settings, user_id)
    return (
        "Spotify refused the saved refresh token (invalid_grant: it expired or was revoked). "
        f"Re-authorise with: rm {cache} && moodlake ingest api --user {user_id} "
        "(open the printed URL, allow access, paste the redirect URL back)."
    )


def call_with_refresh(settings: Settings, client: Any, user_id: str, call: Callable[[], Any]) -> Any:
    """Run an API call; on 401 refresh the token once and retry; invalid_grant -> how to re-authorise."""
    from spotipy.exceptions import SpotifyException
    from spotipy.oauth2 import SpotifyOauthError

    try:
        try:
            return call()
        except SpotifyException as exc:
            if exc.http_status != 401:
                raise
            auth = client.auth_manager
            token = auth.cache_handler.get_cached_token() or {}
            if not token.get("refresh_token"):
                raise ApiAuthError(reauthorise_message(settings, user_id)) from exc
            auth.refresh_access_token(token["refresh_token"])
            return call()
    except SpotifyOauthError as exc:
        if getattr(exc, "error", None) == "invalid_grant" or "invalid_grant" in str(exc):
            raise ApiAuthError(reauthorise_message(settings, user_id)) from exc
        raise


def poll_recently_played(
    spark: SparkSession, settings: Settings, user: str | None = None, client: Any | None = None,
) -> ApiOutcome:
    """Fetch plays after the watermark (minus an hour of overlap), page by page, each landed before moving on."""
    user_id = user or DEFAULT_USER
    client = client or spotify_client(settings, user_id)  # fails on missing credentials before any write
    ensure_api_tables(spark)
    upsert_listener(spark, settings, user_id, None, None, source="api")
    outcome = ApiOutcome()
    watermark = read_watermark(spark, user_id)
    after = max(watermark - OVERLAP_MS, 0) if watermark is not None else None
    landed_tracks: set[str] = set()
    for number in range(1, MAX_PAGES + 1):
        page = call_with_refresh(
            settings, client, user_id, lambda a=after: client.current_user_recently_played(limit=PAGE_LIMIT, after=a)
        )
        polled = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parsed = land_page(spark, page, f"api:{user_id}:{polled}:page{number}", user_id, outcome)
        landed_tracks |= {r["track_id"] for r in parsed.rows if r["track_id"]}
        cursor = (page.get("cursors") or {}).get("after") if isinstance(page, dict) else None
        if len(parsed.rows) < PAGE_LIMIT or not cursor or after is None or int(cursor) <= after:
            break
        after = int(cursor)
    missing = tracks_needing_features(spark, landed_tracks)
    if missing:
        outcome.features = lookup_audio_features(
            spark, lambda ids: call_with_refresh(settings, client, user_id, lambda: client.audio_features(ids)),
            missing, f"api:{user_id}:audio-features",
        )
    return outcome


def ingest_saved_responses(
    spark: SparkSession, settings: Settings, paths: list[Path], user: str | None = None,
    client: Any | None = None,
) -> ApiOutcome:
    """Saved raw recently-played responses through :func:`land_page`, like live pages; any order, any repeat.

    Audio features are looked up only when a client is given or API credentials are configured.
    """
    user_id = user or DEFAULT_USER
    ensure_api_tables(spark)
    outcome = ApiOutcome()
    landed_tracks: set[str] = set()
    for path in _json_files(paths):
        name = str(path.resolve()) if path.exists() else str(path)
        try:
            if not path.is_file():
                raise HistoryFormatError(f"{name}: file not found")
            text = path.read_text(encoding="utf-8-sig")
            page = _single_document(text, name)
            parsed = land_page(spark, page, name, user_id, outcome)
        except (HistoryFormatError, ApiResponseError, OSError, UnicodeDecodeError) as exc:
            outcome.failures.append((name, str(exc).removeprefix(f"{name}: ")))
            continue
        landed_tracks |= {r["track_id"] for r in parsed.rows if r["track_id"]}
    upsert_listener(spark, settings, user_id, None, None, source="api-responses")
    if client is None and settings.spotify_client_id and token_cache_path(settings, user_id).is_file():
        client = spotify_client(settings, user_id)
    missing = tracks_needing_features(spark, landed_tracks) if client is not None else []
    if missing:
        outcome.features = lookup_audio_features(
            spark, lambda ids: call_with_refresh(settings, client, user_id, lambda: client.audio_features(ids)),
            missing, f"api:{user_id}:audio-features",
        )
    if outcome.failures:
        raise IngestFailed(outcome.failures, outcome)
    return outcome


def _json_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return out


def _single_document(text: str, name: str) -> Any:
    """One JSON object; syntax errors name the file, line and whether it looks truncated."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        records = list(iter_json_array(text, name))
        raise ApiResponseError(f"{name}: a JSON array of {len(records)} items, not a recently-played response object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        kind = "truncated" if looks_truncated(text) else "malformed"
        raise HistoryFormatError(f"{name}: {kind} JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
