"""Delta helpers every layer may use: which Delta tables exist in our schemas and what each holds."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from moodlake.core.sql import table as quoted_table

SCHEMAS = ("bronze", "silver", "gold", "snapshots", "seeds")


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
    """Name, layer, row count, newest Delta version and location (Delta's Python API, no SQL text)."""
    from delta.tables import DeltaTable

    delta = DeltaTable.forName(spark, quoted_table(schema, table))
    detail = delta.detail().select("location").first()
    version = delta.history(1).select("version").first()
    return {
        "name": f"{schema}.{table}",
        "layer": layer_of(schema, table),
        "rows": delta.toDF().count(),
        "version": int(version["version"]) if version else 0,
        "location": str(detail["location"]) if detail else "",
    }
