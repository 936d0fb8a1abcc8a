"""Bronze tables and parsers for Spotify Web API data: recently-played items and audio-features lookups.

Kept apart from the HTTP code (``ingestion.api``) so saved responses and live polls share one
parser, and so the export loader can create these tables without importing spotipy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from ingestion.bronze import LINEAGE_FIELDS, ParsedFile, canonical_json, ensure_table, full_schema

RECENTLY_PLAYED_TABLE = "bronze.spotify_recently_played"
AUDIO_FEATURES_TABLE = "bronze.spotify_audio_features"
WATERMARKS_TABLE = "bronze.spotify_api_watermarks"

RECENTLY_PLAYED_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("played_at", T.StringType(), False),  # as the API returned it (ISO-8601, ms, Z)
        T.StructField("track_id", T.StringType(), True),
        T.StructField("track_uri", T.StringType(), True),
        T.StructField("track_name", T.StringType(), True),
        T.StructField("artist_names", T.StringType(), True),  # JSON list, credited order
        T.StructField("artist_ids", T.StringType(), True),  # JSON list
        T.StructField("album_name", T.StringType(), True),
        T.StructField("album_id", T.StringType(), True),
        T.StructField("duration_ms", T.LongType(), True),
        T.StructField("popularity", T.IntegerType(), True),
        T.StructField("explicit", T.BooleanType(), True),
        T.StructField("is_local", T.BooleanType(), True),
        T.StructField("isrc", T.StringType(), True),
        T.StructField("context_type", T.StringType(), True),
        T.StructField("context_uri", T.StringType(), True),
        T.StructField("response_href", T.StringType(), True),
        T.StructField("raw_item", T.StringType(), False),  # the whole item, nothing lost
    ]
)

AUDIO_FEATURE_NAMES = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature", "duration_ms",
)
_FEATURE_TYPES: dict[str, T.DataType] = {
    "key": T.IntegerType(), "mode": T.IntegerType(), "time_signature": T.IntegerType(), "duration_ms": T.LongType(),
}

AUDIO_FEATURES_SCHEMA = T.StructType(
    [
        T.StructField("track_id", T.StringType(), False),
        T.StructField("status", T.StringType(), False),  # ok | unavailable | not_found
        T.StructField("http_status", T.IntegerType(), True),
        T.StructField("message", T.StringType(), True),
        *[T.StructField(n, _FEATURE_TYPES.get(n, T.DoubleType()), True) for n in AUDIO_FEATURE_NAMES],
        T.StructField("raw_response", T.StringType(), True),
    ]
)

WATERMARKS_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("after_ms", T.LongType(), False),  # newest played_at landed, epoch ms
        T.StructField("newest_played_at", T.StringType(), True),
        *LINEAGE_FIELDS,
    ]
)


class ApiResponseError(ValueError):
    """A saved or live response that is not a recently-played page; names the file."""


def ensure_api_tables(spark: SparkSession) -> None:
    ensure_table(spark, RECENTLY_PLAYED_TABLE, full_schema(RECENTLY_PLAYED_SCHEMA))
    ensure_table(spark, AUDIO_FEATURES_TABLE, full_schema(AUDIO_FEATURES_SCHEMA))
    ensure_table(spark, WATERMARKS_TABLE, WATERMARKS_SCHEMA)


def played_at_ms(text: str) -> int:
    """Epoch milliseconds of an API ``played_at`` (the `after` cursor uses the same unit)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def parse_recently_played(page: Any, source: str, user_id: str) -> ParsedFile:
    """One recently-played page (``{"items": [...], "cursors": ..., "href": ...}``) to Bronze rows."""
    if not isinstance(page, dict) or "items" not in page or not isinstance(page["items"], list):
        from ingestion.formats import describe_other

        raise ApiResponseError(f"{source}: not a recently-played response (no 'items' list): {describe_other(page)}")
    parsed = ParsedFile(table=RECENTLY_PLAYED_TABLE, schema=RECENTLY_PLAYED_SCHEMA, source_file=source)
    href = page.get("href") if isinstance(page.get("href"), str) else None
    for index, item in enumerate(page["items"], start=1):
        raw = canonical_json({"user_id": user_id, "item": item})
        if not isinstance(item, dict):
            parsed.reject(index, None, "item is not a JSON object", raw)
            continue
        track = item.get("track")
        played_at = item.get("played_at")
        if not isinstance(played_at, str):
            parsed.reject(index, "played_at", "missing", raw)
            continue
        try:
            played_at_ms(played_at)
        except ValueError as exc:
            parsed.reject(index, "played_at", f"not an ISO-8601 timestamp: {exc}", raw)
            continue
        if not isinstance(track, dict):
            parsed.reject(index, "track", "missing track object", raw)
            continue
        if track.get("type", "track") != "track":
            parsed.skipped[f"{track.get('type')} item (not music)"] += 1
            continue
        album = track.get("album") if isinstance(track.get("album"), dict) else {}
        artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
        context = item.get("context") if isinstance(item.get("context"), dict) else {}
        ext = track.get("external_ids") if isinstance(track.get("external_ids"), dict) else {}
        try:
            row = {
                "user_id": user_id,
                "played_at": played_at,
                "track_id": _str(track.get("id")),
                "track_uri": _str(track.get("uri")),
                "track_name": _str(track.get("name")),
                "artist_names": canonical_json([a.get("name") for a in artists]),
                "artist_ids": canonical_json([a.get("id") for a in artists]),
                "album_name": _str(album.get("name")),
                "album_id": _str(album.get("id")),
                "duration_ms": _int(track.get("duration_ms")),
                "popularity": _int(track.get("popularity")),
                "explicit": _bool(track.get("explicit")),
                "is_local": _bool(track.get("is_local")),
                "isrc": _str(ext.get("isrc")),
                "context_type": _str(context.get("type")),
                "context_uri": _str(context.get("uri")),
                "response_href": href,
                "raw_item": canonical_json(item),
            }
        except ValueError as exc:
            parsed.reject(index, "track", str(exc), raw)
            continue
        parsed.add(row, raw, index)
    return parsed


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not a string")


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not true/false")


def audio_features_row(track_id: str, payload: Any, status: str, http_status: int | None, message: str | None) -> dict[str, Any]:
    """One lookup outcome; features only when the API returned them."""
    row: dict[str, Any] = {
        "track_id": track_id, "status": status, "http_status": http_status, "message": message,
        "raw_response": canonical_json(payload) if payload is not None else None,
    }
    for name in AUDIO_FEATURE_NAMES:
        value = payload.get(name) if isinstance(payload, dict) else None
        if value is not None:
            value = int(value) if name in _FEATURE_TYPES else float(value)
        row[name] = value
    return row
