"""What the lakehouse holds: every Delta table with layer, rows, version and location.

The JSON shape follows ../shared/contracts/status.schema.json. Views (dbt staging) are not
storage and are left out; every table listed is a Delta table a reader can open directly.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession
from rich.console import Console
from rich.table import Table

SCHEMAS = ("bronze", "silver", "gold", "snapshots", "seeds")
COVERAGE_TABLE = "gold.fct_plays"


def layer_of(schema: str, table: str) -> str:
    """Map schema.table to the contract's layer names."""
    if schema == "bronze" and table == "quarantine":
        return "quarantine"
    if schema == "gold" and table.startswith("ml_"):
        return "ml"
    if schema == "snapshots":
        return "snapshot"
    if schema == "seeds":
        return "seed"
    return schema


def delta_tables(spark: SparkSession) -> list[tuple[str, str]]:
    """(schema, table) of every Delta table in our schemas, sorted."""
    found = []
    existing = {db.name for db in spark.catalog.listDatabases()}
    for schema in SCHEMAS:
        if schema not in existing:
            continue
        for tbl in spark.catalog.listTables(schema):
            if tbl.tableType != "VIEW" and not tbl.isTemporary:
                found.append((schema, tbl.name))
    return sorted(found)


def table_info(spark: SparkSession, schema: str, table: str) -> dict[str, Any]:
    name = f"{schema}.{table}"
    detail = spark.sql(f"describe detail {name}").select("format", "location").first()
    version = spark.sql(f"describe history {name} limit 1").select("version").first()
    return {
        "name": name,
        "layer": layer_of(schema, table),
        "rows": spark.table(name).count(),
        "version": int(version["version"]) if version else 0,
        "location": str(detail["location"]) if detail else "",
    }


def coverage(spark: SparkSession) -> dict[str, dict[str, Any]]:
    """Per listener: share of plays and of minutes that have catalog audio features."""
    if not spark.catalog.tableExists(COVERAGE_TABLE):
        return {}
    rows = spark.sql(
        f"""
        select user_id,
               count(*) as plays,
               avg(case when has_audio_features then 1.0 else 0.0 end) as matched_play_share,
               sum(case when has_audio_features then ms_played else 0 end) / greatest(sum(ms_played), 1)
                   as matched_minute_share
        from {COVERAGE_TABLE}
        group by user_id
        order by user_id
        """
    ).collect()
    return {
        r["user_id"]: {
            "plays": int(r["plays"]),
            "matched_play_share": round(float(r["matched_play_share"]), 4),
            "matched_minute_share": round(float(r["matched_minute_share"]), 4),
        }
        for r in rows
    }


def collect_status(spark: SparkSession) -> dict[str, Any]:
    data: dict[str, Any] = {"tables": [table_info(spark, s, t) for s, t in delta_tables(spark)]}
    cov = coverage(spark)
    if cov:
        data["coverage"] = cov
    return data


def print_status(console: Console, data: dict[str, Any]) -> None:
    table = Table(title="Moodlake tables")
    for col in ("table", "layer", "rows", "version", "location"):
        table.add_column(col, justify="right" if col in ("rows", "version") else "left")
    for t in data["tables"]:
        table.add_row(t["name"], t["layer"], f"{t['rows']:,}", str(t["version"]), t["location"])
    console.print(table)
    if data.get("coverage"):
        cov = Table(title="Catalog coverage (plays with audio features)")
        for col in ("listener", "plays", "share of plays", "share of minutes"):
            cov.add_column(col)
        for user, c in data["coverage"].items():
            cov.add_row(user, f"{c['plays']:,}", f"{c['matched_play_share']:.1%}", f"{c['matched_minute_share']:.1%}")
        console.print(cov)
