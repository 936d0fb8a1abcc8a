"""Recognise Spotify privacy-export files by their content and parse them into Bronze rows.

Spotify ships two listening-history packages with different shapes, and users rename, re-zip and
re-request them, so the file name is no evidence of what a file holds. Each file is read whole,
its JSON shape is compared with the known formats, and only then are its records converted:

* Extended streaming history (``Streaming_History_Audio_*.json``, legacy ``endsong_*.json``):
  a list of objects with ``ts`` and ``ms_played`` plus either the newer key set (``ip_addr``,
  ``audiobook_*``) or the older one (``username``, ``ip_addr_decrypted``, ``user_agent_decrypted``).
* Account data (``StreamingHistory*.json``, ``StreamingHistory_music_*.json``,
  ``StreamingHistory_podcast_*.json``): a list of objects with ``endTime`` and ``msPlayed``.

Anything else raises :class:`WrongPackageError` naming the file and, when we recognise it, what it
is (a playlist file, search queries, ...). Video history shares the audio key set; the only marker
Spotify gives is ``Video`` in the file name, so those files are skipped and counted, never loaded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import types as T

from ingestion.bronze import ParsedFile, canonical_json

EXTENDED_TABLE = "bronze.spotify_extended_history"
ACCOUNT_TABLE = "bronze.spotify_account_history"

EXTENDED_FORMAT = "extended_history"
ACCOUNT_FORMAT = "account_history"

# every key either generation of the extended export uses; missing keys land as null
EXTENDED_KEYS: dict[str, T.DataType] = {
    "ts": T.StringType(),
    "username": T.StringType(),
    "platform": T.StringType(),
    "ms_played": T.LongType(),
    "conn_country": T.StringType(),
    "ip_addr": T.StringType(),
    "ip_addr_decrypted": T.StringType(),
    "user_agent_decrypted": T.StringType(),
    "master_metadata_track_name": T.StringType(),
    "master_metadata_album_artist_name": T.StringType(),
    "master_metadata_album_album_name": T.StringType(),
    "spotify_track_uri": T.StringType(),
    "episode_name": T.StringType(),
    "episode_show_name": T.StringType(),
    "spotify_episode_uri": T.StringType(),
    "audiobook_title": T.StringType(),
    "audiobook_uri": T.StringType(),
    "audiobook_chapter_uri": T.StringType(),
    "audiobook_chapter_title": T.StringType(),
    "reason_start": T.StringType(),
    "reason_end": T.StringType(),
    "shuffle": T.BooleanType(),
    "skipped": T.BooleanType(),
    "offline": T.BooleanType(),
    "offline_timestamp": T.LongType(),
    "incognito_mode": T.BooleanType(),
}

EXTENDED_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("content_type", T.StringType(), False),  # music | podcast | audiobook | unknown
        T.StructField("key_set", T.StringType(), False),  # current | legacy
        *[T.StructField(name, dtype, True) for name, dtype in EXTENDED_KEYS.items()],
        T.StructField("extra_fields", T.StringType(), True),  # JSON of keys we do not know yet
    ]
)

ACCOUNT_KEYS: dict[str, tuple[str, T.DataType]] = {
    "endTime": ("end_time", T.StringType()),
    "artistName": ("artist_name", T.StringType()),
    "trackName": ("track_name", T.StringType()),
    "podcastName": ("podcast_name", T.StringType()),
    "episodeName": ("episode_name", T.StringType()),
    "msPlayed": ("ms_played", T.LongType()),
}

ACCOUNT_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("content_type", T.StringType(), False),  # music | podcast
        *[T.StructField(col, dtype, True) for col, dtype in ACCOUNT_KEYS.values()],
        T.StructField("extra_fields", T.StringType(), True),
    ]
)

LEGACY_MARKERS = {"username", "ip_addr_decrypted", "user_agent_decrypted"}
CURRENT_MARKERS = {"audiobook_title", "audiobook_uri", "ip_addr"}

# other files of a Spotify export, so a wrong file gets a message that says what it is
KNOWN_OTHER_FILES: list[tuple[set[str], str]] = [
    ({"playlists"}, "a playlists file (Playlist*.json of the account-data package)"),
    ({"tracks", "albums"}, "a library file (YourLibrary.json of the account-data package)"),
    ({"searchTime", "searchQuery"}, "search queries (SearchQueries.json of the account-data package)"),
    ({"username", "email"}, "account details (Userdata.json of the account-data package)"),
    ({"inferences"}, "ad inferences (Inferences.json of the account-data package)"),
    ({"followerCount"}, "follow data (Follow.json of the account-data package)"),
    ({"items", "cursors"}, "a Web API recently-played response: use `moodlake ingest api-responses`"),
    ({"user_id", "timezone"}, "a Moodlake listeners.json"),
]


class HistoryFormatError(ValueError):
    """A file that cannot be loaded at all; the message names the file and the reason."""


class WrongPackageError(HistoryFormatError):
    """Valid JSON, but not listening history (e.g. a playlist file)."""


def iter_json_array(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """Yield (1-based physical line, element) of a top-level JSON array.

    Decoding element by element keeps the line of every record for lineage and error messages;
    a syntax error anywhere (a truncated file) raises before the caller has written anything,
    because callers consume the whole iterator first.
    """
    decoder = json.JSONDecoder()
    length = len(text)
    pos = _skip_ws(text, 0)
    if pos >= length:
        raise HistoryFormatError(f"{source}: empty file, expected a JSON array of plays")
    if text[pos] != "[":
        raise _not_array(text, source)
    pos = _skip_ws(text, pos + 1)
    if pos < length and text[pos] == "]":
        _expect_end(text, pos + 1, source)
        return
    line, counted = 1, 0  # newlines are counted incrementally: counting from 0 each time is quadratic
    while True:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _syntax(exc, source) from exc
        line += text.count("\n", counted, pos)
        counted = pos
        yield line, value
        pos = _skip_ws(text, end)
        if pos >= length:
            line = text.count("\n") + 1
            raise HistoryFormatError(f"{source}: malformed or truncated JSON: the array is not closed (line {line})")
        if text[pos] == "]":
            _expect_end(text, pos + 1, source)
            return
        if text[pos] != ",":
            line = text.count("\n", 0, pos) + 1
            raise HistoryFormatError(f"{source}: malformed JSON: expected ',' or ']' at line {line}")
        pos = _skip_ws(text, pos + 1)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _expect_end(text: str, pos: int, source: str) -> None:
    pos = _skip_ws(text, pos)
    if pos != len(text):
        line = text.count("\n", 0, pos) + 1
        raise HistoryFormatError(f"{source}: malformed JSON: extra data after the array at line {line}")


def _syntax(exc: json.JSONDecodeError, source: str) -> HistoryFormatError:
    kind = "truncated" if looks_truncated(exc.doc) else "malformed"
    return HistoryFormatError(f"{source}: {kind} JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")


def looks_truncated(text: str) -> bool:
    """A JSON export always ends with its closing bracket; a file cut off mid-way does not."""
    return not text.rstrip().endswith(("]", "}"))


def _not_array(text: str, source: str) -> HistoryFormatError:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return _syntax(exc, source)
    return WrongPackageError(f"{source}: not listening history: {describe_other(doc)}")


def describe_other(doc: Any) -> str:
    """What a non-history JSON document most likely is, for the error message."""
    sample = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else doc
    if isinstance(sample, dict):
        keys = set(sample)
        for markers, what in KNOWN_OTHER_FILES:
            if markers <= keys:
                return f"this is {what}"
        shown = ", ".join(sorted(keys)[:8])
        return (
            f"unknown JSON layout (keys: {shown}); expected extended streaming history "
            "(ts, ms_played, spotify_track_uri, ...) or account data (endTime, msPlayed, ...)"
        )
    return f"unknown JSON layout (a {type(doc).__name__}); expected a JSON array of plays"


def detect_format(records: list[tuple[int, Any]], source: str) -> str:
    """The format the records share, judged from their keys; an error names the file otherwise."""
    dicts = [rec for _, rec in records if isinstance(rec, dict)]
    if not dicts:
        if not records:
            return EXTENDED_FORMAT  # an empty export file: nothing to load, nothing wrong
        raise WrongPackageError(f"{source}: not listening history: {describe_other(records[0][1])}")
    keys: set[str] = set().union(*(set(d) for d in dicts[:50]))
    if {"ts", "ms_played"} <= keys:
        return EXTENDED_FORMAT
    if {"endTime", "msPlayed"} <= keys:
        return ACCOUNT_FORMAT
    raise WrongPackageError(f"{source}: not listening history: {describe_other(dicts)}")


def is_video_file(name: str) -> bool:
    """Spotify's video history has the audio key set; only the file name tells them apart."""
    return bool(re.search(r"(^|[/\\!_])streaming_history_video", name, re.IGNORECASE))


#: Plays before Spotify existed or after tomorrow are typos or corrupt files, not listening.
EARLIEST_PLAY = datetime(2006, 1, 1)
LONG_RANGE = (-(2**63), 2**63 - 1)


def _parse_ts(text: Any, fmt: str | None = None) -> datetime:
    """A play's UTC timestamp, refused when unreadable or outside 2006-01-01 .. tomorrow."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a timestamp string")
    moment = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text.replace("Z", "+00:00"))
    utc = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    if not EARLIEST_PLAY <= utc <= latest:
        raise ValueError(f"{text!r} is outside {EARLIEST_PLAY:%Y-%m-%d} .. {latest:%Y-%m-%d} (UTC)")
    return moment


def _check_type(value: Any, dtype: T.DataType) -> Any:
    if value is None:
        return None
    if isinstance(dtype, T.StringType):
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        return value
    if isinstance(dtype, T.LongType):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a whole number")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise ValueError(f"{value!r} is not a whole number")  # NaN and Infinity too (Python's json reads them)
        if not LONG_RANGE[0] <= int(value) <= LONG_RANGE[1]:
            raise ValueError(f"{value!r} does not fit a 64-bit integer")
        return int(value)
    if isinstance(dtype, T.BooleanType):
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true/false")
        return value
    raise TypeError(f"unhandled type {dtype}")


def extended_content_type(rec: dict[str, Any]) -> str:
    if rec.get("spotify_track_uri"):
        return "music"
    if rec.get("spotify_episode_uri") or rec.get("episode_name"):
        return "podcast"
    if rec.get("audiobook_uri") or rec.get("audiobook_chapter_uri") or rec.get("audiobook_title"):
        return "audiobook"
    return "unknown"


def parse_extended(records: list[tuple[int, Any]], source: str, user_id: str) -> ParsedFile:
    """Convert every record; a bad record is rejected with its line and field, the rest load."""
    parsed = ParsedFile(table=EXTENDED_TABLE, schema=EXTENDED_SCHEMA, source_file=source)
    for line, rec in records:
        raw = canonical_json({"user_id": user_id, "record": rec})
        if not isinstance(rec, dict):
            parsed.reject(line, None, "record is not a JSON object", raw)
            continue
        row: dict[str, Any] = {"user_id": user_id}
        problem = None
        for key, dtype in EXTENDED_KEYS.items():
            try:
                row[key] = _check_type(rec.get(key), dtype)
            except ValueError as exc:
                problem = (key, f"wrong type: {exc}")
                break
        if problem is None:
            problem = _required(row, ("ts", "ms_played"))
        if problem is None:
            try:
                _parse_ts(row["ts"])
            except ValueError as exc:
                problem = ("ts", f"not a plausible ISO-8601 timestamp: {exc}")
        if problem is None and row["ms_played"] < 0:
            problem = ("ms_played", f"negative duration {row['ms_played']}")
        if problem:
            parsed.reject(line, problem[0], problem[1], raw)
            continue
        keys = set(rec)
        row["key_set"] = "legacy" if keys & LEGACY_MARKERS and not keys & {"audiobook_title", "audiobook_uri"} else "current"
        row["content_type"] = extended_content_type(rec)
        extra = {k: v for k, v in rec.items() if k not in EXTENDED_KEYS}
        row["extra_fields"] = canonical_json(extra) if extra else None
        parsed.add(row, raw, line)
    return parsed


def parse_account(records: list[tuple[int, Any]], source: str, user_id: str) -> ParsedFile:
    """Account-data rows: music has artistName/trackName, podcasts podcastName/episodeName."""
    parsed = ParsedFile(table=ACCOUNT_TABLE, schema=ACCOUNT_SCHEMA, source_file=source)
    for line, rec in records:
        raw = canonical_json({"user_id": user_id, "record": rec})
        if not isinstance(rec, dict):
            parsed.reject(line, None, "record is not a JSON object", raw)
            continue
        row: dict[str, Any] = {"user_id": user_id}
        problem = None
        for key, (col, dtype) in ACCOUNT_KEYS.items():
            try:
                row[col] = _check_type(rec.get(key), dtype)
            except ValueError as exc:
                problem = (key, f"wrong type: {exc}")
                break
        if problem is None:
            missing = [k for k, (c, _) in ACCOUNT_KEYS.items() if k in ("endTime", "msPlayed") and row[c] is None]
            problem = (missing[0], "missing") if missing else None
        if problem is None:
            try:
                _parse_ts(row["end_time"], "%Y-%m-%d %H:%M")
            except ValueError as exc:
                problem = ("endTime", f"not a plausible 'YYYY-MM-DD HH:MM': {exc}")
        if problem is None and row["ms_played"] < 0:
            problem = ("msPlayed", f"negative duration {row['ms_played']}")
        if problem is None and not (row["track_name"] or row["episode_name"]):
            problem = ("trackName", "neither trackName nor episodeName")
        if problem:
            parsed.reject(line, problem[0], problem[1], raw)
            continue
        row["content_type"] = "podcast" if row["podcast_name"] or (row["episode_name"] and not row["track_name"]) else "music"
        extra = {k: v for k, v in rec.items() if k not in ACCOUNT_KEYS}
        row["extra_fields"] = canonical_json(extra) if extra else None
        parsed.add(row, raw, line)
    return parsed


def _required(row: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, str] | None:
    for key in keys:
        if row.get(key) is None:
            return key, "missing"
    return None


def username_of(records: list[tuple[int, Any]]) -> str | None:
    """The export's own account name (older extended exports carry it), when not redacted."""
    for _, rec in records:
        if isinstance(rec, dict) and isinstance(rec.get("username"), str) and rec["username"]:
            name = rec["username"]
            return None if name.startswith("redacted") else name
    return None
