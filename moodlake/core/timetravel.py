"""Recovery by Delta time travel: list a table's versions, restore one, and rebuild what was built on it.

Why a rebuild marker: Silver and Gold are incremental dbt models. After a bad load is undone in
Bronze (``restore``), an incremental run would keep the rows it already merged from that load, so
the restore leaves a marker in ``$MOODLAKE_HOME/state`` and the next ``dbt build``/``run``
through :func:`moodlake.core.dbt.invoke_dbt` adds ``--full-refresh`` once, then clears it. A restore
is itself a new Delta version, so it can be undone the same way.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from moodlake.core.delta import delta_tables
from moodlake.core.errors import MoodlakeError
from moodlake.core.settings import Settings
from moodlake.core.sql import table as quoted_table

REBUILD_MARKER = "rebuild-required.json"
#: operationMetrics keys that say how many rows a commit wrote, by operation.
ROW_METRICS = ("numOutputRows", "numTargetRowsInserted", "numCopiedRows")


class TimeTravelError(MoodlakeError):
    """Unknown table, version or timestamp: the message says what exists."""


@dataclass(frozen=True)
class TableVersion:
    """One commit of a Delta table, as `moodlake history` shows it."""

    version: int
    timestamp: str
    operation: str
    rows_written: int | None
    parameters: str


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the table, the version it now equals and the new version it created."""

    table: str
    restored_to: int
    new_version: int
    files_removed: int
    files_restored: int


def resolve_table(spark: SparkSession, name: str) -> tuple[str, str]:
    """(schema, table) of one of our Delta tables; an unknown name lists the closest ones."""
    tables = delta_tables(spark)
    names = [f"{s}.{t}" for s, t in tables]
    wanted = name.strip().lower()
    for full, pair in zip(names, tables, strict=True):
        if wanted in (full, pair[1]):
            return pair
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.4) or names[:10]
    raise TimeTravelError(f"no Delta table {name!r} in this home; did you mean: {', '.join(close) or '(none yet)'}")


def _delta(spark: SparkSession, schema: str, table: str) -> Any:
    from delta.tables import DeltaTable

    return DeltaTable.forName(spark, quoted_table(schema, table))


def _rows_written(metrics: dict[str, str] | None) -> int | None:
    for key in ROW_METRICS:
        if metrics and key in metrics:
            return int(metrics[key])
    return None


def table_history(spark: SparkSession, name: str, limit: int | None = None) -> list[TableVersion]:
    """The table's commits, newest first (Delta's history, read through the Python API)."""
    schema, table = resolve_table(spark, name)
    history = _delta(spark, schema, table).history(limit) if limit else _delta(spark, schema, table).history()
    out = []
    for row in history.select("version", "timestamp", "operation", "operationParameters", "operationMetrics").collect():
        params = {k: v for k, v in (row["operationParameters"] or {}).items() if v not in (None, "", "[]", "null")}
        out.append(TableVersion(
            version=int(row["version"]), timestamp=row["timestamp"].isoformat(sep=" ", timespec="seconds"),
            operation=str(row["operation"]), rows_written=_rows_written(row["operationMetrics"]),
            parameters=", ".join(f"{k}={v}" for k, v in sorted(params.items()))[:160],
        ))
    return out


def version_at(history: list[TableVersion], as_of: str, table: str) -> int:
    """The version that was current at ``as_of`` (an ISO date or time, read like the timestamps
    `moodlake history` prints): the newest commit at or before it."""
    try:
        moment = datetime.fromisoformat(as_of.strip())
    except ValueError as exc:
        raise TimeTravelError(f"--as-of {as_of!r} is not a date or time like 2026-12-01 or 2026-12-01 14:30:00") from exc
    if moment.tzinfo is not None:  # history times are UTC (the session time zone)
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    earlier = [v for v in history if datetime.fromisoformat(v.timestamp) <= moment]
    if not earlier:
        first = min(history, key=lambda v: v.version)
        raise TimeTravelError(f"{table} did not exist at {as_of}; its first version is from {first.timestamp}")
    return max(earlier, key=lambda v: v.version).version


def marker_path(settings: Settings) -> Path:
    return settings.home / "state" / REBUILD_MARKER


def restore_table(spark: SparkSession, settings: Settings, name: str, version: int | None = None,
                  as_of: str | None = None) -> RestoreResult:
    """Restore one table to a version (or the version current at a timestamp) and ask for a rebuild."""
    if (version is None) == (as_of is None):
        raise TimeTravelError("give exactly one of --version N or --as-of TIMESTAMP")
    schema, table = resolve_table(spark, name)
    history = table_history(spark, f"{schema}.{table}")
    versions = sorted(v.version for v in history)
    current = versions[-1]
    if as_of is not None:
        version = version_at(history, as_of, f"{schema}.{table}")
    assert version is not None
    if version not in versions:
        raise TimeTravelError(f"{schema}.{table} has versions {versions[0]}..{current}; there is no version {version}")
    if version == current:
        raise TimeTravelError(f"{schema}.{table} is already at version {version}; nothing to restore")
    try:
        metrics_df = _delta(spark, schema, table).restoreToVersion(version)
    except Exception as exc:  # Delta says why (e.g. the version's files were vacuumed)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TimeTravelError(f"cannot restore {schema}.{table} to version {version}: {first_line}") from exc
    metrics = metrics_df.first().asDict() if metrics_df is not None else {}
    result = RestoreResult(
        table=f"{schema}.{table}", restored_to=version,
        new_version=table_history(spark, f"{schema}.{table}", limit=1)[0].version,
        files_removed=int(metrics.get("num_removed_files", 0) or 0),
        files_restored=int(metrics.get("num_restored_files", 0) or 0),
    )
    request_rebuild(settings, result)
    return result


def request_rebuild(settings: Settings, result: RestoreResult) -> None:
    """Leave the marker that makes the next dbt build a full refresh (kept until one succeeds)."""
    path = marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    pending = rebuild_reasons(settings)
    pending.append({**asdict(result), "at": datetime.now(UTC).isoformat(timespec="seconds")})
    path.write_text(json.dumps(pending, indent=1))


def rebuild_reasons(settings: Settings) -> list[dict[str, Any]]:
    """Restores not yet followed by a successful full rebuild (empty when none)."""
    path = marker_path(settings)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return [{"table": "?", "note": f"unreadable marker {path}"}]
    return data if isinstance(data, list) else [data]


def clear_rebuild(settings: Settings) -> None:
    marker_path(settings).unlink(missing_ok=True)


__all__ = [
    "RestoreResult", "TableVersion", "TimeTravelError", "clear_rebuild", "rebuild_reasons", "request_rebuild",
    "resolve_table", "restore_table", "table_history", "version_at",
]
