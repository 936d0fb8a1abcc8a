"""Land track catalogs (CSV, CSV.gz, Parquet; one file or a folder of files) in ``bronze.catalog_tracks``.

Three layouts are recognised by their header (Kaggle "Spotify Tracks Dataset", TidyTuesday
"Spotify Songs", the 2024 per-genre API pull); any other loads with ``--map OURS=THEIRS`` (see
:mod:`ingestion.catalog_layouts`). Every row keeps its catalog name and load time.

Order of work: every header of every input is read and resolved first, so an unknown layout, a bad
mapping or an odd file in a folder stops the load before anything is written. Then each file is
streamed in chunks of at most ``CHUNK_ROWS`` rows (memory stays bounded whatever the file size),
validated row by row (a bad row goes to ``bronze.quarantine`` with file, line, field and reason while
the good rows still load) and merged on its content hash, so loading the same file under the same
catalog name again adds nothing.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from ingestion.bronze import LandResult, ParsedFile, canonical_json, land
from ingestion.catalog_layouts import (
    CatalogFormatError,
    Layout,
    convert_record,
    feature_conflict,
    features_of,
    parse_mapping,
    resolve_layout,
)
from moodlake.core.paths import BUNDLED_CATALOG, REPO_ROOT
from moodlake.core.sql import identifier

__all__ = [
    "BUNDLED_CATALOGS", "CHUNK_ROWS", "SCHEMA", "TABLE", "CatalogFormatError", "CatalogSource",
    "ingest_catalog_files", "land_sources", "parse_catalog", "parse_catalogs", "parse_mapping", "resolve_sources",
]

TABLE = "bronze.catalog_tracks"

#: The catalogs ``moodlake run`` loads by default: (catalog name, file). Sources, authors and
#: licences: data/catalog/README.md and NOTICE.
BUNDLED_CATALOGS: list[tuple[str, Path]] = [
    ("tidytuesday", BUNDLED_CATALOG),
    ("kaggle_114k", REPO_ROOT / "data" / "catalog" / "kaggle_spotify_tracks_114k.csv.gz"),
]

#: Rows per Delta commit; a file with more rows lands in several commits (each idempotent).
CHUNK_ROWS = 150_000

SCHEMA = T.StructType(
    [
        T.StructField("track_id", T.StringType(), False),
        T.StructField("track_name", T.StringType(), True),
        T.StructField("artists", T.StringType(), True),
        T.StructField("album_name", T.StringType(), True),
        T.StructField("album_id", T.StringType(), True),
        T.StructField("album_release_date", T.StringType(), True),
        T.StructField("popularity", T.IntegerType(), True),
        T.StructField("duration_ms", T.IntegerType(), True),
        T.StructField("explicit", T.BooleanType(), True),
        T.StructField("danceability", T.DoubleType(), True),
        T.StructField("energy", T.DoubleType(), True),
        T.StructField("key", T.IntegerType(), True),
        T.StructField("loudness", T.DoubleType(), True),
        T.StructField("mode", T.IntegerType(), True),
        T.StructField("speechiness", T.DoubleType(), True),
        T.StructField("acousticness", T.DoubleType(), True),
        T.StructField("instrumentalness", T.DoubleType(), True),
        T.StructField("liveness", T.DoubleType(), True),
        T.StructField("valence", T.DoubleType(), True),
        T.StructField("tempo", T.DoubleType(), True),
        T.StructField("time_signature", T.IntegerType(), True),
        T.StructField("genre", T.StringType(), True),
        T.StructField("subgenre", T.StringType(), True),
        T.StructField("playlist_name", T.StringType(), True),
        T.StructField("playlist_id", T.StringType(), True),
        T.StructField("artist_genres", T.StringType(), True),
        T.StructField("source_layout", T.StringType(), False),
        T.StructField("catalog_name", T.StringType(), False),
    ]
)

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz")
_PARQUET_BATCH = 10_000


class CatalogNotFound(CatalogFormatError, FileNotFoundError):
    """A path given to the loader does not exist."""


@dataclass(frozen=True)
class CatalogSource:
    """One input file, its header, the resolved layout and the catalog its rows belong to."""

    path: Path
    header: list[str]
    layout: Layout
    catalog_name: str

    @property
    def is_parquet(self) -> bool:
        return self.path.name.lower().endswith(_PARQUET)


# ---- finding files and reading headers -----------------------------------------------------------------


def _is_catalog_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name.lower().endswith(_CSV + _PARQUET)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", *_CSV, *_PARQUET):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_header(path: Path) -> list[str]:
    """The column names of a CSV / CSV.gz (first row) or Parquet file (its schema)."""
    if path.name.lower().endswith(_PARQUET):
        import pyarrow.parquet as pq

        try:
            header = list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise CatalogFormatError(f"{path.resolve()}: not a readable Parquet file ({exc})") from exc
    else:
        try:
            with _open_text(path) as handle:
                header = next(csv.reader(handle), None)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CatalogFormatError(f"{path.resolve()}: not a readable UTF-8 CSV file ({exc})") from exc
        if header is None:
            raise CatalogFormatError(f"{path.resolve()}: empty file, no header row")
        header = [h.strip() for h in header]
    repeated = sorted(name for name, n in Counter(header).items() if n > 1 and name)
    if repeated:
        raise CatalogFormatError(f"{path.resolve()}: column(s) named more than once: {', '.join(repeated)}")
    return header


def _folder_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if _is_catalog_file(p))
    if not files:
        raise CatalogFormatError(f"{folder.resolve()}: folder holds no .csv, .csv.gz or .parquet file")
    return files


def _same_columns(folder: Path, files: list[Path], headers: list[list[str]]) -> None:
    first = set(headers[0])
    for path, header in zip(files[1:], headers[1:], strict=True):
        if set(header) != first:
            missing = sorted(first - set(header))
            extra = sorted(set(header) - first)
            raise CatalogFormatError(
                f"{folder.resolve()}: all files of a folder must have the same columns, but {path.name} differs "
                f"from {files[0].name} (missing: {', '.join(missing) or '-'}; extra: {', '.join(extra) or '-'})"
            )


def resolve_sources(
    paths: Iterable[Path], name: str | None = None, mapping: dict[str, str] | list[str] | None = None
) -> list[CatalogSource]:
    """Every file to load with its layout and catalog name; raises before any data row is read."""
    if isinstance(mapping, list):
        mapping = parse_mapping(mapping)
    if name is not None and not name.strip():
        raise CatalogFormatError("--name must not be empty")
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CatalogNotFound(f"catalog file not found: {', '.join(missing)}")
    sources: list[CatalogSource] = []
    for path in paths:
        if path.is_dir():
            files = _folder_files(path)
            headers = [read_header(f) for f in files]
            _same_columns(path, files, headers)
        elif _is_catalog_file(path):
            files, headers = [path], [read_header(path)]
        else:
            raise CatalogFormatError(f"{path.resolve()}: not a .csv, .csv.gz or .parquet file")
        layouts = [resolve_layout(h, str(f.resolve()), mapping) for f, h in zip(files, headers, strict=True)]
        catalog = (name or layouts[0].default_catalog or _stem(path)).strip()
        sources += [CatalogSource(f, h, lay, catalog) for f, h, lay in zip(files, headers, layouts, strict=True)]
    return sources


# ---- reading records -------------------------------------------------------------------------------------


def _csv_records(source: CatalogSource) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, fields), so multi-line quoted rows report the right line."""
    with _open_text(source.path) as handle:
        reader = csv.reader(handle)
        next(reader, None)
        start = reader.line_num + 1
        for fields in reader:
            if fields:
                yield start, fields
            start = reader.line_num + 1


def _text(value: Any) -> str:
    """A Parquet value as the text a CSV would hold, so both go through the same validation."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _parquet_records(source: CatalogSource) -> Iterator[tuple[int, list[str]]]:
    """(row number from 1, fields as text), read in record batches so memory stays bounded."""
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=_PARQUET_BATCH, columns=source.header):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for values in zip(*columns, strict=True):
            number += 1
            yield number, [_text(v) for v in values]


# ---- validation ------------------------------------------------------------------------------------------


@dataclass
class LoadState:
    """What one load has accepted so far: the first row of each (catalog, track id), to catch conflicts."""

    first: dict[tuple[str, str], tuple[str, int | None, tuple[Any, ...]]] = field(default_factory=dict)


def _where(earlier_file: str, line: int | None, current_file: str) -> str:
    unit = "row" if earlier_file.lower().endswith(_PARQUET) else "line"
    place = f"{unit} {line}"
    return place if earlier_file == current_file else f"{place} of {Path(earlier_file).name}"


def parse_source(
    source: CatalogSource, state: LoadState | None = None, table: str = TABLE, chunk_rows: int | None = None
) -> Iterator[ParsedFile]:
    """Validate one file's rows, yielding them in chunks of at most ``chunk_rows`` (all at once: None).

    A row's hash covers its catalog name, its record (column -> text) and its occurrence number among
    identical records of the file, so re-loading the file under the same name adds nothing.
    """
    state = state or LoadState()
    file_name = str(source.path.resolve())
    records = _parquet_records(source) if source.is_parquet else _csv_records(source)
    header = source.header
    occurrences: Counter[bytes] = Counter()
    parsed = ParsedFile(table=table, schema=SCHEMA, source_file=file_name)
    for line, fields in records:
        if len(fields) != len(header):
            parsed.reject(line, None, f"expected {len(header)} columns, found {len(fields)}", canonical_json(fields))
        else:
            record = dict(zip(header, fields, strict=True))
            _check_row(parsed, state, source, line, record)
        if chunk_rows and len(parsed.rows) + len(parsed.rejected) >= chunk_rows:
            yield _number_repeats(parsed, occurrences)
            parsed = ParsedFile(table=table, schema=SCHEMA, source_file=file_name)
    yield _number_repeats(parsed, occurrences)


def _check_row(parsed: ParsedFile, state: LoadState, source: CatalogSource, line: int, record: dict[str, str]) -> None:
    row, problem = convert_record(source.layout, record)
    raw = canonical_json(record)
    if problem is None:
        key = (source.catalog_name, row["track_id"])
        features = features_of(row)
        earlier = state.first.get(key)
        if earlier is None:
            state.first[key] = (parsed.source_file, line, features)
        else:
            conflict = feature_conflict(source.layout, earlier[2], features)
            if conflict is not None:
                problem = (
                    conflict[0],
                    f"track id {row['track_id']} has different audio features than "
                    f"{_where(earlier[0], earlier[1], parsed.source_file)} ({conflict[1]})",
                )
    if problem is not None:
        parsed.reject(line, problem[0], problem[1], raw)
        return
    row["source_layout"] = source.layout.name
    row["catalog_name"] = source.catalog_name
    parsed.add(row, f"{source.catalog_name}\x1f{raw}", line)


def _number_repeats(parsed: ParsedFile, occurrences: Counter[bytes]) -> ParsedFile:
    """Number identical records across the whole file (not per chunk), so each keeps its own hash."""
    for i, raw in enumerate(parsed.raw):
        digest = hashlib.blake2b(raw.encode(), digest_size=16).digest()
        seen = occurrences[digest]
        occurrences[digest] += 1
        if seen:
            parsed.raw[i] = f"{raw}\x1f{seen}"
    return parsed


def parse_catalogs(
    paths: Iterable[Path], name: str | None = None, mapping: dict[str, str] | list[str] | None = None,
    table: str = TABLE,
) -> list[ParsedFile]:
    """Read and validate whole catalogs (files or folders) into one ParsedFile per file; writes nothing."""
    state = LoadState()
    return [part for source in resolve_sources(paths, name, mapping) for part in parse_source(source, state, table)]


def parse_catalog(
    path: Path, name: str | None = None, mapping: dict[str, str] | list[str] | None = None, table: str = TABLE
) -> ParsedFile:
    """One catalog file, read and validated; nothing is written."""
    [parsed] = parse_catalogs([path], name, mapping, table)
    return parsed


# ---- landing ---------------------------------------------------------------------------------------------


def evolve_table(spark: SparkSession, table: str = TABLE) -> list[str]:
    """Add the columns an older version's table lacks (old rows get null); returns the columns added."""
    if not spark.catalog.tableExists(table):
        return []
    existing = set(spark.table(table).columns)
    added: list[str] = []
    previous = None
    for column in SCHEMA.fields:
        if column.name not in existing:
            after = f" AFTER {identifier(previous)}" if previous else " FIRST"
            quoted = ".".join(identifier(part) for part in table.split("."))
            spark.sql(
                f"ALTER TABLE {quoted} ADD COLUMNS ({identifier(column.name)} {column.dataType.simpleString()}{after})"
            )
            added.append(column.name)
        previous = column.name
    return added


def _combined(parts: list[LandResult]) -> LandResult:
    skipped: Counter[str] = Counter()
    for part in parts:
        skipped.update(part.skipped)
    return LandResult(
        table=parts[0].table,
        source_file=parts[0].source_file,
        input_records=sum(p.input_records for p in parts),
        inserted=sum(p.inserted for p in parts),
        already_present=sum(p.already_present for p in parts),
        quarantined=sum(p.quarantined for p in parts),
        skipped=dict(skipped),
    )


def land_sources(
    spark: SparkSession, sources: list[CatalogSource], table: str = TABLE, chunk_rows: int = CHUNK_ROWS
) -> list[LandResult]:
    """Land resolved sources (see :func:`resolve_sources`), one result per file; evolves an older table first."""
    evolve_table(spark, table)
    state = LoadState()
    results = []
    for source in sources:
        batch_id = uuid.uuid4().hex
        parts = [land(spark, chunk, batch_id) for chunk in parse_source(source, state, table, chunk_rows)]
        results.append(_combined(parts))
    return results


def ingest_catalog_files(
    spark: SparkSession,
    paths: Iterable[Path],
    name: str | None = None,
    mapping: dict[str, str] | list[str] | None = None,
    table: str = TABLE,
    chunk_rows: int = CHUNK_ROWS,
) -> list[LandResult]:
    """Land catalogs (files or folders), one result per file.

    All headers are resolved first: a layout or mapping error raises :class:`CatalogFormatError` before
    anything is written. ``name`` is the catalog name of every row (default: per path, from its layout
    or its file/folder name); ``mapping`` is our field -> their column (or ``["OURS=THEIRS", ...]``).
    """
    return land_sources(spark, resolve_sources(paths, name, mapping), table, chunk_rows)


def ingest_bundled_catalogs(spark: SparkSession, table: str = TABLE) -> list[LandResult]:
    """Land the catalogs that ship with Moodlake (TidyTuesday, Kaggle 114k); idempotent."""
    results: list[LandResult] = []
    for name, path in BUNDLED_CATALOGS:
        results += ingest_catalog_files(spark, [path], name=name, table=table)
    return results


def has_catalog(spark: SparkSession, table: str = TABLE) -> bool:
    """Whether any catalog was ever landed (a home with only a listening history has none)."""
    return spark.catalog.tableExists(table)
