"""Parse a track-catalog CSV (Kaggle "Spotify Tracks Dataset" or TidyTuesday layout) into Bronze.

Both layouts map onto one explicit schema; nothing is inferred. Each row is validated (column
count, id, types, value ranges); a bad row is quarantined with its line, field and reason while
the good rows of the same file still load.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from ingestion.bronze import LandResult, ParsedFile, canonical_json, land

TABLE = "bronze.catalog_tracks"

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
        T.StructField("source_layout", T.StringType(), False),
    ]
)


class CatalogFormatError(ValueError):
    """The file is not a catalog layout we know; the message lists the missing columns."""


@dataclass(frozen=True)
class Layout:
    """A known CSV layout: target column -> source column."""

    name: str
    columns: dict[str, str]

    def missing(self, header: list[str]) -> list[str]:
        return [src for src in self.columns.values() if src not in header]


_AUDIO = [
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
]

LAYOUTS = [
    Layout(
        "kaggle_tracks",
        {
            "track_id": "track_id", "track_name": "track_name", "artists": "artists",
            "album_name": "album_name", "popularity": "popularity", "explicit": "explicit",
            "time_signature": "time_signature", "genre": "track_genre", **{c: c for c in _AUDIO},
        },
    ),
    Layout(
        "tidytuesday_songs",
        {
            "track_id": "track_id", "track_name": "track_name", "artists": "track_artist",
            "album_name": "track_album_name", "album_id": "track_album_id",
            "album_release_date": "track_album_release_date", "popularity": "track_popularity",
            "genre": "playlist_genre", "subgenre": "playlist_subgenre",
            "playlist_name": "playlist_name", "playlist_id": "playlist_id", **{c: c for c in _AUDIO},
        },
    ),
]

UNIT_RANGE = (0.0, 1.0)
RULES: dict[str, tuple[Callable[[str], Any], tuple[float, float] | None]] = {}


def _int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in {"true", "1", "t", "yes"}:
        return True
    if low in {"false", "0", "f", "no"}:
        return False
    raise ValueError(f"{text!r} is not a boolean")


for _name in ("danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence"):
    RULES[_name] = (_float, UNIT_RANGE)
RULES.update(
    {
        "loudness": (_float, (-100.0, 10.0)),
        "tempo": (_float, (0.0, 300.0)),
        "key": (_int, (-1, 11)),
        "mode": (_int, (0, 1)),
        "popularity": (_int, (0, 100)),
        "duration_ms": (_int, (1, 24 * 3600 * 1000)),
        "time_signature": (_int, (0, 7)),
        "explicit": (_bool, None),
    }
)


def detect_layout(header: list[str], source: str) -> Layout:
    """The layout whose columns the header has; else an error naming what is missing."""
    for layout in LAYOUTS:
        if not layout.missing(header):
            return layout
    detail = "; ".join(f"{layout.name} needs {', '.join(layout.missing(header))}" for layout in LAYOUTS)
    raise CatalogFormatError(f"{source}: unknown catalog layout (missing columns: {detail})")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, fields), so multi-line quoted rows report right."""
    start = reader.line_num + 1
    for fields in reader:
        yield start, fields
        start = reader.line_num + 1


def parse_catalog(path: Path) -> ParsedFile:
    """Read and validate a whole catalog file; nothing is written here."""
    source = str(path.resolve())
    parsed = ParsedFile(table=TABLE, schema=SCHEMA, source_file=source)
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration as exc:
            raise CatalogFormatError(f"{source}: empty file, no header row") from exc
        header = [h.strip() for h in header]
        layout = detect_layout(header, source)
        index = {name: i for i, name in enumerate(header)}
        for line, fields in _records(reader):
            if not fields:
                continue
            raw = canonical_json(fields)
            if len(fields) != len(header):
                parsed.reject(line, None, f"expected {len(header)} columns, found {len(fields)}", raw)
                continue
            row, problem = _convert(layout, index, fields)
            if problem:
                parsed.reject(line, problem[0], problem[1], raw)
            else:
                row["source_layout"] = layout.name
                parsed.add(row, raw, line)
    return parsed


def _convert(layout: Layout, index: dict[str, int], fields: list[str]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    row: dict[str, Any] = {}
    for target, source_col in layout.columns.items():
        text = fields[index[source_col]].strip()
        if target == "track_id":
            if not text:
                return row, (source_col, "missing track id")
            row[target] = text
            continue
        if not text:
            row[target] = None
            continue
        rule = RULES.get(target)
        if rule is None:
            row[target] = text
            continue
        convert, bounds = rule
        try:
            value = convert(text)
        except ValueError as exc:
            return row, (source_col, f"wrong type: {exc}")
        if bounds and not bounds[0] <= value <= bounds[1]:
            return row, (source_col, f"{value} outside [{bounds[0]}, {bounds[1]}]")
        row[target] = value
    return row, None


def ingest_catalog_files(spark: SparkSession, paths: list[Path]) -> list[LandResult]:
    """Parse every file first (a format error stops before any write), then land each."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"catalog file not found: {', '.join(missing)}")
    parsed = [parse_catalog(p) for p in paths]
    return [land(spark, p) for p in parsed]
