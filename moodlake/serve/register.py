"""Make Spark's Delta tables queryable in Trino under the same names (``delta.gold.fct_plays``).

Why registration instead of a shared metastore: Spark keeps its Hive metastore in an embedded Derby
database that only one JVM may open, so Trino gets its own file metastore and we point it at the
same Delta folders with ``system.register_table``. Trino reads the Delta log itself on every query,
so new versions written by Spark show up without re-registering; only new, dropped or moved
tables need this step. We find tables from the warehouse folders (``<schema>.db/<table>/_delta_log``)
so that no Spark session (and no Derby lock) is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from moodlake.core.settings import Settings
from moodlake.core.sql import literal
from moodlake.core.sql import table as sql_table
from moodlake.serve.trino import CATALOG, connect, s3_options, table_location, warehouse_path

SERVED_SCHEMAS = ("silver", "gold")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_LOCATION = re.compile(r"location = '((?:[^']|'')*)'")  # fallback when sqlglot cannot parse the DDL


@dataclass(frozen=True)
class DeltaTable:
    """One Spark-written Delta table: Trino schema and table name plus its folder (or s3a:// URI)."""

    schema: str
    name: str
    path: Path | str


@dataclass
class RegistrationResult:
    """What one registration pass changed, for the progress output and tests."""

    registered: list[str] = field(default_factory=list)
    relocated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        return sorted(self.registered + self.relocated + self.unchanged)

    @property
    def summary(self) -> str:
        """One line of counts, e.g. for the ``moodlake serve`` output."""
        return (f"Trino tables: {len(self.registered)} registered, {len(self.relocated)} re-pointed, "
                f"{len(self.unchanged)} unchanged, {len(self.unregistered)} unregistered")


def discover_tables(settings: Settings, schemas: Sequence[str] = SERVED_SCHEMAS) -> list[DeltaTable]:
    """Every ``<warehouse>/<schema>.db/<table>`` folder that holds a Delta log with at least one commit."""
    if settings.uses_s3a:
        return _discover_s3(settings, schemas)
    root = warehouse_path(settings)
    found: list[DeltaTable] = []
    for schema in schemas:
        folder = root / f"{schema}.db"
        if not folder.is_dir():
            continue
        for table in sorted(p for p in folder.iterdir() if p.is_dir()):
            log = table / "_delta_log"
            if log.is_dir() and any(log.glob("*.json")) and _IDENT.match(table.name):
                found.append(DeltaTable(schema, table.name, table))
    return found


def _discover_s3(settings: Settings, schemas: Sequence[str]) -> list[DeltaTable]:
    """The same scan on an s3a:// warehouse, with pyarrow's S3 client (credentials: AWS environment)."""
    from pyarrow import fs

    options = s3_options(settings)
    assert options is not None
    kwargs: dict[str, object] = {"region": options.region, "force_virtual_addressing": not options.path_style}
    if options.endpoint:
        scheme, _, host = options.endpoint.rpartition("://")
        kwargs.update(endpoint_override=host, scheme=scheme or "https")
    s3 = fs.S3FileSystem(**kwargs)
    root = settings.warehouse_uri.removeprefix("s3a://").rstrip("/")
    found: list[DeltaTable] = []
    for schema in schemas:
        folder = fs.FileSelector(f"{root}/{schema}.db", allow_not_found=True)
        for info in sorted(s3.get_file_info(folder), key=lambda i: i.path):
            name = info.path.rsplit("/", 1)[-1]
            if info.type != fs.FileType.Directory or not _IDENT.match(name):
                continue
            log = s3.get_file_info(fs.FileSelector(f"{info.path}/_delta_log", allow_not_found=True))
            if any(entry.path.endswith(".json") for entry in log):
                found.append(DeltaTable(schema, name, f"s3a://{info.path}"))
    return found


def _str(value: str) -> str:
    """A Trino string literal (folder and table names come from the warehouse, i.e. from files)."""
    return literal(value, dialect="trino")


def _name(*parts: str) -> str:
    """A quoted name in our catalog: ``_name("gold", "x")`` is ``"delta"."gold"."x"``."""
    return sql_table(CATALOG, *parts, dialect="trino")


def register_tables(
    settings: Settings,
    tables: Iterable[DeltaTable] | None = None,
    schemas: Sequence[str] = SERVED_SCHEMAS,
) -> RegistrationResult:
    """Register (or re-point) tables in Trino; idempotent.

    With ``tables=None`` the warehouse is scanned and registered tables whose folder is gone are
    unregistered (metadata only: ``unregister_table`` never deletes data). With an explicit list
    nothing is unregistered, because a partial list says nothing about the other tables.
    The result lists what changed (``result.summary`` is a one-line count for the caller to show).
    """
    prune = tables is None
    wanted = list(discover_tables(settings, schemas) if tables is None else tables)
    result = RegistrationResult()
    conn = connect(settings)
    try:
        cur = conn.cursor()

        def run(sql: str) -> list[list]:
            cur.execute(sql)
            return cur.fetchall()

        target_schemas = sorted({t.schema for t in wanted} | (set(schemas) if prune else set()))
        for schema in target_schemas:
            run(f"create schema if not exists {_name(schema)}")
        existing: dict[tuple[str, str], str | None] = {}
        for schema in target_schemas:
            rows = run(
                f"select table_name from {_name('information_schema', 'tables')} "
                f"where table_schema = {_str(schema)} and table_type = {_str('BASE TABLE')}"
            )
            for (name,) in rows:
                existing[(schema, name)] = _location(run, schema, name)
        for table in wanted:
            key = (table.schema, table.name)
            location = table_location(settings, table.path)
            qualified = f"{table.schema}.{table.name}"
            if key in existing and existing[key] == location:
                result.unchanged.append(qualified)
                continue
            if key in existing:
                _unregister(run, table.schema, table.name)
                result.relocated.append(qualified)
            else:
                result.registered.append(qualified)
            run(
                f"call {_name('system', 'register_table')}(schema_name => {_str(table.schema)}, "
                f"table_name => {_str(table.name)}, table_location => {_str(location)})"
            )
        if prune:
            keep = {(t.schema, t.name) for t in wanted}
            for schema, name in sorted(set(existing) - keep):
                _unregister(run, schema, name)
                result.unregistered.append(f"{schema}.{name}")
    finally:
        conn.close()
    return result


def _location(run, schema: str, name: str) -> str | None:  # type: ignore[no-untyped-def]
    """The registered location (None when Trino cannot read the table any more, e.g. folder deleted)."""
    try:
        ddl = run(f"show create table {_name(schema, name)}")[0][0]
    except Exception:  # the Delta log is gone or unreadable: treat as stale
        return None
    return _ddl_location(ddl)


def _ddl_location(ddl: str) -> str | None:
    """The ``location`` property of Trino's ``show create table`` text, unquoted by sqlglot's parser
    (a quote in a folder name is ``''`` there)."""
    try:
        prop = sqlglot.parse_one(ddl, read="trino").find(exp.LocationProperty)
    except sqlglot.errors.SqlglotError:
        match = _LOCATION.search(ddl)
        return match.group(1).replace("''", "'") if match else None
    return prop.this.name if prop is not None else None


def _unregister(run, schema: str, name: str) -> None:  # type: ignore[no-untyped-def]
    run(
        f"call {_name('system', 'unregister_table')}(schema_name => {_str(schema)}, "
        f"table_name => {_str(name)})"
    )
