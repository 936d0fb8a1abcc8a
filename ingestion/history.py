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
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from rich.console import Console
from rich.table import Table

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
from moodlake.settings import Settings

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


class IngestFailed(typer.Exit):
    """Some files could not be loaded; the others were.

    A ``typer.Exit(1)``: the CLI exits with code 1 without a traceback (the failed files were
    already listed on the console); ``str()`` carries the list for `moodlake run` and scripts.
    """

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        super().__init__(1)
        self.failures = failures
        listed = "; ".join(f"{name}: {reason}" for name, reason in failures)
        self.message = f"{len(failures)} file(s) failed to load: {listed}"

    def __str__(self) -> str:
        return self.message


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
    name = str(path.resolve())
    try:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.lower().endswith(".json") and not member.startswith("__MACOSX/"):
                    yield SourceFile(f"{name}!{member}", slug(path.stem), False, data=archive.read(member))
    except zipfile.BadZipFile:
        yield SourceFile(name, slug(path.stem), explicit, error="not a readable zip archive")


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
    timezone: str | None = None, console: Console | None = None,
) -> list[LandResult]:
    """CLI and `moodlake run` entry point: land, print per-file results, fail at the end if any file failed."""
    outcome = load_history(spark, settings, paths, user, timezone)
    if console is not None:
        print_outcome(console, outcome)
        print_silver_summary(spark, console, sorted(outcome.users))
    if outcome.failures:
        raise IngestFailed(outcome.failures)
    return outcome.results


def print_outcome(console: Console, outcome: HistoryOutcome) -> None:
    from moodlake.ui import print_land_results

    if outcome.results:
        print_land_results(console, outcome.results)
        total = sum(r.input_records for r in outcome.results)
        inserted = sum(r.inserted for r in outcome.results)
        console.print(
            f"{len(outcome.results)} file(s), {total:,} records: {inserted:,} new in Bronze, "
            f"{sum(r.already_present for r in outcome.results):,} already present, "
            f"{sum(r.quarantined for r in outcome.results):,} quarantined, "
            f"{sum(sum(r.skipped.values()) for r in outcome.results):,} skipped; "
            f"listeners: {', '.join(sorted(outcome.users)) or '-'}"
        )
    for name, reason in outcome.ignored:
        console.print(f"[yellow]ignored[/yellow] {name}: {reason}")
    if outcome.failures:
        console.print(f"[red]{len(outcome.failures)} file(s) not loaded (nothing of them was written):[/red]")
        for name, reason in outcome.failures:
            console.print(f"  [red]✗[/red] {name}: {reason}")


def silver_summary(spark: SparkSession, users: list[str] | None = None) -> dict[str, Any]:
    """Plays per listener and source, drops per reason and catalog coverage from Silver, if built."""
    out: dict[str, Any] = {}
    where = ""
    if users:
        quoted = ", ".join("'" + u.replace("'", "''") + "'" for u in users)
        where = f"where user_id in ({quoted})"
    if spark.catalog.tableExists("silver.int_plays_matched"):
        rows = spark.sql(
            f"""
            select user_id, source, count(*) as plays, sum(cast(is_short_play as int)) as short_plays,
                   sum(cast(has_audio_features as int)) as with_features,
                   sum(case when has_audio_features then ms_played else 0 end) as ms_with_features,
                   sum(ms_played) as ms_total
            from silver.int_plays_matched {where}
            group by user_id, source order by user_id, source
            """
        ).collect()
        out["plays"] = [r.asDict() for r in rows]
    if spark.catalog.tableExists("silver.int_play_drops"):
        rows = spark.sql(f"select * from silver.int_play_drops {where} order by user_id, source, reason").collect()
        out["drops"] = [r.asDict() for r in rows]
    return out


def print_silver_summary(
    spark: SparkSession, console: Console, users: list[str] | None = None, data: dict[str, Any] | None = None
) -> None:
    """Coverage per listener as of the last `moodlake transform` (Silver is rebuilt by dbt, not here)."""
    data = silver_summary(spark, users) if data is None else data
    if not data.get("plays"):
        console.print("Silver not built for these listeners yet: run `moodlake transform` to deduplicate and match plays.")
        return
    table = Table(title="Silver plays (as of the last `moodlake transform`)")
    for col in ("listener", "source", "plays", "short (<30 s)", "with audio features", "share of plays", "share of minutes"):
        table.add_column(col, justify="left" if col in ("listener", "source") else "right")
    for r in data["plays"]:
        table.add_row(
            r["user_id"], r["source"], f"{r['plays']:,}", f"{r['short_plays']:,}", f"{r['with_features']:,}",
            f"{r['with_features'] / max(r['plays'], 1):.1%}", f"{(r['ms_with_features'] or 0) / max(r['ms_total'] or 0, 1):.1%}",
        )
    console.print(table)
    if data.get("drops"):
        drops = Table(title="Rows dropped by deduplication")
        for col in ("listener", "source", "reason", "rows"):
            drops.add_column(col, justify="right" if col == "rows" else "left")
        for r in data["drops"]:
            drops.add_row(r["user_id"], r["source"], r["reason"], f"{r['dropped_rows']:,}")
        console.print(drops)


__all__ = ["IngestFailed", "ingest_history_paths", "load_history", "print_silver_summary", "upsert_listener"]
