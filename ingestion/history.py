"""`moodlake ingest history`: privacy-export listening history (files, folders, the export .zip) to Bronze.

Every file is read and validated whole before anything is written, then landed with one Delta
commit per table (``ingestion.bronze.land``), so a broken file never leaves a partial batch. A file
that cannot be loaded (malformed or truncated JSON, a playlist file, ...) is reported with its
name and reason while the other files of the same call still load; the call then fails at the end
with the list of failed files, so scripts and cron notice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from ingestion.archive import ArchiveRefused, json_members
from ingestion.bronze import LINEAGE_FIELDS, LandResult, ParsedFile, ensure_table, full_schema, land, record_hashes
from ingestion.formats import (
    ACCOUNT_FORMAT,
    ACCOUNT_SCHEMA,
    ACCOUNT_TABLE,
    EXTENDED_SCHEMA,
    EXTENDED_TABLE,
    HistoryFormatError,
    WrongPackageError,
    detect_format,
    is_video_file,
    iter_json_array,
    parse_account,
    parse_extended,
    username_of,
)
from moodlake.core.errors import IngestFailed
from moodlake.core.settings import Settings

LISTENERS_TABLE = "bronze.listeners"
LISTENERS_SCHEMA = T.StructType(
    [
        T.StructField("user_id", T.StringType(), False),
        T.StructField("timezone", T.StringType(), False),
        T.StructField("display_name", T.StringType(), True),
        T.StructField("is_demo", T.BooleanType(), False),
        *LINEAGE_FIELDS,
    ]
)


@dataclass
class SourceFile:
    """One JSON document to load: a file on disk or a member of an export zip."""

    name: str  # what messages and lineage call it: /abs/path or /abs/export.zip!member
    folder: str  # the folder (or zip) it came from, the default listener id
    explicit: bool  # named by the user (vs. found inside a folder/zip)
    data: bytes | None = None
    path: Path | None = None
    error: str | None = None  # known unreadable before parsing (e.g. a broken zip)

    def text(self) -> str:
        raw = self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HistoryFormatError(f"{self.name}: not UTF-8 text (byte {exc.start}); is this a JSON export file?") from exc


@dataclass
class HistoryOutcome:
    """What one call did, for the console and the run summary."""

    results: list[LandResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # other export files found in folders/zips
    users: set[str] = field(default_factory=set)


def slug(text: str) -> str:
    """A listener id from a folder or zip name: lowercase letters, digits, '-' and '_'."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "me"


def expand_paths(paths: list[Path]) -> Iterator[SourceFile]:
    """Files, folders (recursively) and .zip exports, in a stable order; JSON members only."""
    for path in paths:
        path = path.expanduser()
        if not path.exists():
            yield SourceFile(name=str(path), folder="", explicit=True, path=path)  # fails with "not found"
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() == ".json":
                    yield SourceFile(str(child.resolve()), slug(child.parent.name), False, path=child)
                elif child.suffix.lower() == ".zip":
                    yield from _zip_members(child, explicit=False)
        elif path.suffix.lower() == ".zip":
            yield from _zip_members(path, explicit=True)
        else:
            yield SourceFile(str(path.resolve()), slug(path.resolve().parent.name), True, path=path)


def _zip_members(path: Path, explicit: bool) -> Iterator[SourceFile]:
    """JSON members of an export zip, read safely (``ingestion.archive``); refused members fail by name."""
    name = str(path.resolve())
    try:
        for member in json_members(path):
            yield SourceFile(f"{name}!{member.name}", slug(path.stem), False, data=member.data, error=member.refused)
    except ArchiveRefused as exc:
        yield SourceFile(name, slug(path.stem), explicit, error=str(exc))


def parse_source(source: SourceFile, user: str | None) -> tuple[ParsedFile | None, str]:
    """Parse one file whole; returns (parsed, user_id), or (None, reason) for a skipped export file."""
    if source.error:
        raise HistoryFormatError(f"{source.name}: {source.error}")
    if source.path is not None and not source.path.is_file():
        raise HistoryFormatError(f"{source.name}: file not found")
    text = source.text()
    records = list(iter_json_array(text, source.name))
    fmt = detect_format(records, source.name)
    user_id = user or username_of(records) or source.folder or "me"
    if is_video_file(source.name):
        parsed = ParsedFile(table=EXTENDED_TABLE, schema=EXTENDED_SCHEMA, source_file=source.name)
        parsed.skipped["video"] = len(records)
        return parsed, user_id
    if fmt == ACCOUNT_FORMAT:
        return parse_account(records, source.name, user_id), user_id
    return parse_extended(records, source.name, user_id), user_id


def ensure_spotify_tables(spark: SparkSession) -> None:
    """Create every Spotify Bronze table up front so Silver builds whatever sources a listener has."""
    from ingestion.api_tables import ensure_api_tables

    ensure_table(spark, EXTENDED_TABLE, full_schema(EXTENDED_SCHEMA))
    ensure_table(spark, ACCOUNT_TABLE, full_schema(ACCOUNT_SCHEMA))
    ensure_table(spark, LISTENERS_TABLE, LISTENERS_SCHEMA)
    ensure_api_tables(spark)


def upsert_listener(
    spark: SparkSession, settings: Settings, user_id: str, timezone: str | None,
    display_name: str | None = None, source: str = "cli",
) -> None:
    """One row per listener; a time zone or name given now replaces the stored one, else it is kept."""
    from delta.tables import DeltaTable

    if timezone is not None:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)  # raises for a zone that does not exist, before anything is written
    ensure_table(spark, LISTENERS_TABLE, LISTENERS_SCHEMA)
    row: dict[str, Any] = {
        "user_id": user_id,
        "timezone": timezone or settings.timezone,
        "display_name": display_name or user_id,
        "is_demo": user_id.startswith("demo-"),
        "_source_file": source,
        "_line": None,
        "_ingested_at": datetime.now(UTC).replace(tzinfo=None),
        "_batch_id": uuid.uuid4().hex,
        "_record_hash": record_hashes(LISTENERS_TABLE, [user_id])[0],
    }
    frame = spark.createDataFrame([row], LISTENERS_SCHEMA)
    update: dict[str, str] = {"_ingested_at": "s._ingested_at", "_batch_id": "s._batch_id", "_source_file": "s._source_file"}
    if timezone is not None:
        update["timezone"] = "s.timezone"
    if display_name is not None:
        update["display_name"] = "s.display_name"
    merge = DeltaTable.forName(spark, LISTENERS_TABLE).alias("t").merge(frame.alias("s"), "t.user_id = s.user_id")
    if timezone is not None or display_name is not None:
        merge = merge.whenMatchedUpdate(set=update)
    merge.whenNotMatchedInsertAll().execute()


def _display_name_for(paths: list[Path], user_id: str) -> str | None:
    """Demo folders sit next to a listeners.json that names each listener."""
    import json

    for path in paths:
        for folder in (path, path.parent, path.parent.parent):
            candidate = folder / "listeners.json"
            if candidate.is_file():
                try:
                    entries = json.loads(candidate.read_text(encoding="utf-8"))
                except (ValueError, OSError):
                    continue
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, dict) and entry.get("user_id") == user_id:
                        return entry.get("display_name")
    return None


def load_history(
    spark: SparkSession, settings: Settings, paths: list[Path], user: str | None, timezone: str | None,
) -> HistoryOutcome:
    """Parse and land every file; collect failures instead of stopping at the first one."""
    outcome = HistoryOutcome()
    ensure_spotify_tables(spark)
    sources = list(expand_paths(paths))
    if not sources:
        outcome.failures.append((", ".join(map(str, paths)), "no JSON files found"))
    for source in sources:
        try:
            parsed, user_id = parse_source(source, user)
        except WrongPackageError as exc:
            if source.explicit:
                outcome.failures.append((source.name, str(exc).removeprefix(f"{source.name}: ")))
            else:
                outcome.ignored.append((source.name, str(exc).removeprefix(f"{source.name}: ")))
            continue
        except (HistoryFormatError, OSError) as exc:
            outcome.failures.append((source.name, str(exc).removeprefix(f"{source.name}: ")))
            continue
        if parsed is None:
            continue
        outcome.results.append(land(spark, parsed))
        if parsed.rows:
            outcome.users.add(user_id)
    users = outcome.users or ({user} if user else set())
    for user_id in sorted(users):
        name = _display_name_for(paths, user_id)
        upsert_listener(spark, settings, user_id, timezone, name, source=str(paths[0]) if paths else "cli")
    return outcome


def ingest_history_paths(
    spark: SparkSession, settings: Settings, paths: list[Path], user: str | None = None,
    timezone: str | None = None,
) -> list[LandResult]:
    """Land every file; raise :class:`IngestFailed` (carrying the outcome) at the end if any file failed."""
    outcome = load_history(spark, settings, paths, user, timezone)
    if outcome.failures:
        raise IngestFailed(outcome.failures, outcome)
    return outcome.results


__all__ = ["IngestFailed", "ingest_history_paths", "load_history", "upsert_listener"]
