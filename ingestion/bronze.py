"""Land parsed records in Bronze Delta tables, idempotently, with lineage and a quarantine.

Every loader (catalog CSV, privacy exports, API responses) parses its input into a
:class:`ParsedFile` and hands it here. This module owns the rules shared by all of them:

* lineage columns ``_source_file``, ``_line``, ``_ingested_at``, ``_batch_id``, ``_record_hash``;
* idempotency by content: ``_record_hash`` is a hash of the raw record plus its occurrence number
  among identical records of the same file, and rows are ``MERGE``d on it, so loading the same
  file (or an overlapping one) twice adds nothing while true repeats inside one file are kept;
* one Delta commit per table per call, so a failed file never leaves a partial batch;
* rejected rows go to ``bronze.quarantine`` with file, line, field and reason.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

QUARANTINE_TABLE = "bronze.quarantine"

LINEAGE_FIELDS = [
    T.StructField("_source_file", T.StringType(), False),
    T.StructField("_line", T.LongType(), True),
    T.StructField("_ingested_at", T.TimestampType(), False),
    T.StructField("_batch_id", T.StringType(), False),
    T.StructField("_record_hash", T.StringType(), False),
]

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("target_table", T.StringType(), False),
        T.StructField("field", T.StringType(), True),
        T.StructField("reason", T.StringType(), False),
        T.StructField("raw_record", T.StringType(), True),
        *LINEAGE_FIELDS,
    ]
)


@dataclass(frozen=True)
class Rejected:
    """One bad input record: where it was and why it was refused."""

    line: int | None
    field: str | None
    reason: str
    raw: str


@dataclass
class ParsedFile:
    """A whole input file, parsed and validated, ready to land in one table."""

    table: str
    schema: T.StructType
    source_file: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # canonical raw text per row, for hashing
    lines: list[int | None] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # kept out on purpose (e.g. video), by reason

    def add(self, row: dict[str, Any], raw: str, line: int | None) -> None:
        self.rows.append(row)
        self.raw.append(raw)
        self.lines.append(line)

    def reject(self, line: int | None, field_name: str | None, reason: str, raw: str) -> None:
        self.rejected.append(Rejected(line, field_name, reason, raw))

    @property
    def input_records(self) -> int:
        return len(self.rows) + len(self.rejected) + sum(self.skipped.values())


@dataclass
class LandResult:
    """What one file did to Bronze."""

    table: str
    source_file: str
    input_records: int
    inserted: int
    already_present: int
    quarantined: int
    skipped: dict[str, int]


def canonical_json(record: Any) -> str:
    """Stable text of a JSON record (sorted keys) so equal content hashes equally."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_hashes(table: str, raws: list[str]) -> list[str]:
    """Content hash per record, numbering identical records within the file."""
    seen: Counter[str] = Counter()
    out = []
    for raw in raws:
        occurrence = seen[raw]
        seen[raw] += 1
        out.append(hashlib.sha256(f"{table}\x1f{occurrence}\x1f{raw}".encode()).hexdigest())
    return out


def full_schema(schema: T.StructType) -> T.StructType:
    return T.StructType([*schema.fields, *LINEAGE_FIELDS])


def ensure_table(spark: SparkSession, table: str, schema: T.StructType) -> None:
    """Create the Delta table on first use; an existing one must have the same columns."""
    if spark.catalog.tableExists(table):
        existing = [f.name for f in spark.table(table).schema.fields]
        wanted = [f.name for f in schema.fields]
        if existing != wanted:
            raise RuntimeError(
                f"{table} has columns {existing}, the loader writes {wanted}; "
                "migrate the table explicitly (schema evolution is never implicit)."
            )
        return
    spark.createDataFrame([], schema).write.format("delta").saveAsTable(table)


def _frame(spark: SparkSession, schema: T.StructType, rows: list[dict[str, Any]]) -> DataFrame:
    pdf = pd.DataFrame.from_records(rows, columns=[f.name for f in schema.fields])
    pdf = pdf.astype(object).where(pd.notna(pdf), None)
    return spark.createDataFrame(pdf, schema) if rows else spark.createDataFrame([], schema)


def merge_new(spark: SparkSession, table: str, frame: DataFrame, retries: int = 3) -> int:
    """Insert rows whose ``_record_hash`` is not in ``table`` yet; returns rows inserted."""
    from delta.exceptions import ConcurrentAppendException, ConcurrentWriteException, MetadataChangedException
    from delta.tables import DeltaTable

    for attempt in range(retries):
        try:
            target = DeltaTable.forName(spark, table)
            before = target.history(1).select("version").first()["version"]
            (
                target.alias("t")
                .merge(frame.alias("s"), "t._record_hash = s._record_hash")
                .whenNotMatchedInsertAll()
                .execute()
            )
            metrics = target.history(1).select("version", "operation", "operationMetrics").first()
            if metrics and metrics["version"] > before and metrics["operation"] == "MERGE":
                return int(metrics["operationMetrics"].get("numTargetRowsInserted", "0"))
            return 0
        except (ConcurrentAppendException, ConcurrentWriteException, MetadataChangedException):
            # Delta's optimistic concurrency: another writer committed first; the merge is safe to redo
            if attempt == retries - 1:
                raise
            time.sleep(1 + attempt)
    return 0


def land(spark: SparkSession, parsed: ParsedFile, batch_id: str | None = None) -> LandResult:
    """Write one parsed file: good rows to its table, rejected rows to quarantine."""
    batch_id = batch_id or uuid.uuid4().hex
    now = datetime.now(UTC).replace(tzinfo=None)
    schema = full_schema(parsed.schema)
    ensure_table(spark, parsed.table, schema)
    ensure_table(spark, QUARANTINE_TABLE, QUARANTINE_SCHEMA)

    hashes = record_hashes(parsed.table, parsed.raw)
    rows = [
        {**row, "_source_file": parsed.source_file, "_line": line, "_ingested_at": now,
         "_batch_id": batch_id, "_record_hash": h}
        for row, line, h in zip(parsed.rows, parsed.lines, hashes, strict=True)
    ]
    inserted = merge_new(spark, parsed.table, _frame(spark, schema, rows)) if rows else 0

    q_hashes = record_hashes(
        QUARANTINE_TABLE, [f"{parsed.table}\x1f{r.line}\x1f{r.reason}\x1f{r.raw}" for r in parsed.rejected]
    )
    q_rows = [
        {"target_table": parsed.table, "field": r.field, "reason": r.reason, "raw_record": r.raw,
         "_source_file": parsed.source_file, "_line": r.line, "_ingested_at": now,
         "_batch_id": batch_id, "_record_hash": h}
        for r, h in zip(parsed.rejected, q_hashes, strict=True)
    ]
    if q_rows:
        merge_new(spark, QUARANTINE_TABLE, _frame(spark, QUARANTINE_SCHEMA, q_rows))

    return LandResult(
        table=parsed.table,
        source_file=parsed.source_file,
        input_records=parsed.input_records,
        inserted=inserted,
        already_present=len(rows) - inserted,
        quarantined=len(q_rows),
        skipped=dict(parsed.skipped),
    )
