"""Catalog parsing without Spark: layouts, --map, track-id forms, validation, folders, Parquet, hashing."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from ingestion.catalog import (
    BUNDLED_CATALOGS,
    LoadState,
    parse_catalog,
    parse_catalogs,
    parse_source,
    resolve_sources,
)
from ingestion.catalog_layouts import (
    FIELDS,
    LAYOUTS,
    CatalogFormatError,
    convert_record,
    normalise_track_id,
    parse_mapping,
    resolve_layout,
)
from moodlake.core.errors import MoodlakeError
from tests.conftest import FIXTURES

CATALOG = FIXTURES / "catalog"
CUSTOM_MAP = [
    "track_id=Spotify Link", "track_name=Song", "artist_name=Performer", "album_name=LP",
    "release_date=Released", "popularity=Popularity", "duration_ms=Length (ms)", "genre=Style", "tempo=BPM",
]
ID = "6f807x0ima9a1j3VPbc7VN"


def header_of(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ---- track ids ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        ID, f" {ID} ", f"spotify:track:{ID}", f"https://open.spotify.com/track/{ID}",
        f"https://open.spotify.com/track/{ID}?si=0123abcd4567efgh", f"http://open.spotify.com/track/{ID}/",
        f"open.spotify.com/track/{ID}", f"https://open.spotify.com/intl-de/track/{ID}?si=x",
    ],
)
def test_track_id_forms_normalise_to_the_bare_id(text: str) -> None:
    assert normalise_track_id(text) == ID


@pytest.mark.parametrize(
    "text",
    [
        "", "abc", ID + "X", ID[:-1] + "!", f"spotify:album:{ID}", f"spotify:episode:{ID}",
        f"https://open.spotify.com/album/{ID}", f"https://example.com/track/{ID}", f"spotify:track:{ID}?si=1",
    ],
)
def test_anything_else_is_not_a_track_id(text: str) -> None:
    assert normalise_track_id(text) is None


# ---- layouts and --map -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "layout", "catalog"),
    [
        ("tidytuesday_sample.csv", "tidytuesday_songs", "tidytuesday"),
        ("kaggle_sample.csv", "kaggle_tracks", "kaggle_114k"),
        ("genre_pull_sample.csv", "genre_pull_2024", "genre_pull_2024"),
    ],
)
def test_recognised_layouts_need_no_flags(fixture: str, layout: str, catalog: str) -> None:
    [source] = resolve_sources([CATALOG / fixture])
    assert source.layout.name == layout and source.catalog_name == catalog


def test_genre_pull_layout_maps_its_own_column_names() -> None:
    parsed = parse_catalog(CATALOG / "genre_pull_sample.csv")
    assert len(parsed.rows) == 33 and not parsed.rejected
    first = parsed.rows[0]
    assert first["artists"] == "Avicii" and first["album_release_date"] == "2019-08-23"
    assert first["genre"] == "dance pop" and first["artist_genres"] == "['pop', 'dance pop']"
    assert first["explicit"] is True and first["time_signature"] == 4
    assert {"artist_id", "track_number", "artist_followers"}.isdisjoint(first)


def test_parse_mapping_rejects_bad_items() -> None:
    assert parse_mapping(["track_id = id", "genre=Style"]) == {"track_id": "id", "genre": "Style"}
    with pytest.raises(CatalogFormatError, match="expected OURS=THEIRS"):
        parse_mapping(["track_id"])
    with pytest.raises(CatalogFormatError, match="not one of our fields") as err:
        parse_mapping(["bpm=BPM"])
    assert all(f in str(err.value) for f in FIELDS)
    with pytest.raises(CatalogFormatError, match="twice"):
        parse_mapping(["tempo=BPM", "tempo=Tempo"])


def test_custom_layout_loads_with_a_mapping() -> None:
    parsed = parse_catalog(CATALOG / "custom_layout.csv", mapping=CUSTOM_MAP)
    assert len(parsed.rows) == 12 and len(parsed.rejected) == 2
    row = parsed.rows[2]
    assert row["track_id"] == "3kgKVcBpBGuSeaEC0AZGlb"  # written as an open.spotify.com link with ?si=
    assert row["source_layout"] == "custom" and row["catalog_name"] == "custom_layout"
    assert row["artists"] == "Lil Nas X" and row["tempo"] > 0 and row["valence"] is not None
    assert "Notes" not in row and "explicit" not in row
    assert all(len(r["track_id"]) == 22 for r in parsed.rows)
    reasons = {r.line: (r.field, r.reason) for r in parsed.rejected}
    assert reasons[14][0] == "Spotify Link" and "not-a-track-id" in reasons[14][1]
    assert "open.spotify.com/album" in reasons[15][1] and "not a Spotify track id" in reasons[15][1]


def test_columns_named_like_ours_need_no_mapping(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mine.csv", ["track_id", "track_name", "valence", "whatever"],
                     [[f"spotify:track:{ID}", "Song", "0.5", "x"]])
    parsed = parse_catalog(path)
    assert parsed.rows[0]["track_id"] == ID and parsed.rows[0]["valence"] == 0.5
    assert parsed.rows[0]["catalog_name"] == "mine"


def test_unknown_layout_lists_our_fields_and_the_files_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "playlist.csv", ["id", "name", "valence"], [["1", "x", "0.5"]])
    with pytest.raises(CatalogFormatError) as err:
        parse_catalog(path)
    message = str(err.value)
    assert isinstance(err.value, MoodlakeError)
    assert str(path.resolve()) in message
    assert "The file's columns: id, name, valence" in message
    assert all(f in message for f in FIELDS)
    assert "--map OURS=THEIRS" in message
    assert "kaggle_tracks (" in message and "track_genre" in message and "track_artist" in message


def test_mapping_to_a_column_the_file_lacks_is_an_error() -> None:
    with pytest.raises(CatalogFormatError, match="does not have: Tempo"):
        resolve_layout(header_of(CATALOG / "custom_layout.csv"), "f.csv", {"track_id": "Spotify Link", "tempo": "Tempo"})


def test_a_mapping_overrides_one_field_of_a_recognised_layout() -> None:
    layout = resolve_layout(header_of(CATALOG / "genre_pull_sample.csv"), "f.csv", {"genre": "artist_genres"})
    assert layout.name == "genre_pull_2024" and layout.columns["genre"] == "artist_genres"
    assert layout.columns["artists"] == "artist_name"


def test_layouts_have_distinct_names_and_catalogs() -> None:
    assert len({lay.name for lay in LAYOUTS}) == len({lay.default_catalog for lay in LAYOUTS}) == len(LAYOUTS)


# ---- validation ------------------------------------------------------------------------------------------


def test_values_are_checked_against_the_rules() -> None:
    layout = resolve_layout(["track_id", "valence", "key", "explicit"], "f.csv")
    ok, problem = convert_record(layout, {"track_id": ID, "valence": "1e-3", "key": "-1", "explicit": "False"})
    assert problem is None and ok == {"track_id": ID, "valence": 0.001, "key": -1, "explicit": False}
    for record, field, reason in [
        ({"valence": "high"}, "valence", "wrong type"),
        ({"valence": "1.5"}, "valence", "outside [0.0, 1.0]"),
        ({"valence": "nan"}, "valence", "not a finite number"),
        ({"key": "4.5"}, "key", "not a whole number"),
        ({"key": "12"}, "key", "outside [-1, 11]"),
        ({"explicit": "maybe"}, "explicit", "not a boolean"),
        ({"track_id": ""}, "track_id", "missing track id"),
    ]:
        _, problem = convert_record(layout, {"track_id": ID, "valence": "", "key": "", "explicit": "", **record})
        assert problem is not None and problem[0] == field and reason in problem[1], record


def test_broken_rows_are_quarantined_with_line_field_and_reason() -> None:
    parsed = parse_catalog(CATALOG / "kaggle_broken.csv")
    assert len(parsed.rows) == 10
    reasons = {r.line: (r.field, r.reason) for r in parsed.rejected}
    assert set(reasons) == {12, 13, 14, 15}
    assert reasons[14] == ("track_id", "missing track id")
    assert reasons[15][0] is None and "expected 21 columns, found 18" in reasons[15][1]


def test_repeated_id_with_other_genre_is_kept_other_features_are_quarantined(tmp_path: Path) -> None:
    header = ["track_id", "genre", "danceability", "energy"]
    path = write_csv(tmp_path / "dupes.csv", header, [
        [ID, "pop", "0.5", "0.7"],
        [ID, "rock", "0.5", "0.7"],           # same features, another genre: normal
        [ID, "pop", "0.6", "0.7"],            # other features: conflicts with line 2
        [f"spotify:track:{ID}", "edm", "0.50", "0.7"],  # same id and value, other spelling: fine
    ])
    parsed = parse_catalog(path)
    assert [r["genre"] for r in parsed.rows] == ["pop", "rock", "edm"]
    [rejected] = parsed.rejected
    assert rejected.line == 4 and rejected.field == "danceability"
    assert "different audio features than line 2" in rejected.reason and "0.6" in rejected.reason


def test_conflicts_are_checked_across_the_files_of_one_catalog(tmp_path: Path) -> None:
    header = ["track_id", "danceability"]
    folder = tmp_path / "pull"
    folder.mkdir()
    write_csv(folder / "a.csv", header, [[ID, "0.5"]])
    write_csv(folder / "b.csv", header, [[ID, "0.9"]])
    first, second = parse_catalogs([folder])
    assert len(first.rows) == 1 and not second.rows
    assert "than line 2 of a.csv" in second.rejected[0].reason
    # another catalog may hold the same track with other values
    assert len(parse_catalogs([folder / "a.csv", folder / "b.csv"])[1].rows) == 1


# ---- folders, Parquet, names, hashing --------------------------------------------------------------------


def test_folder_files_share_the_catalog_name_and_layout(tmp_path: Path) -> None:
    folder = tmp_path / "kaggle_parts"
    folder.mkdir()
    shutil.copy(CATALOG / "kaggle_sample.csv", folder / "part1.csv")
    shutil.copy(CATALOG / "kaggle_broken.csv", folder / "part2.csv")
    (folder / "notes.txt").write_text("ignored")
    sources = resolve_sources([folder])
    assert [s.path.name for s in sources] == ["part1.csv", "part2.csv"]
    assert {s.catalog_name for s in sources} == {"kaggle_114k"}
    assert {s.catalog_name for s in resolve_sources([folder], name="mine")} == {"mine"}


def test_a_folder_file_with_other_columns_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(CATALOG / "kaggle_sample.csv", folder / "a.csv")
    shutil.copy(CATALOG / "tidytuesday_sample.csv", folder / "b.csv")
    with pytest.raises(CatalogFormatError, match=r"b\.csv differs from a\.csv") as err:
        resolve_sources([folder])
    assert "track_genre" in str(err.value) and "playlist_genre" in str(err.value)


def test_empty_folder_and_other_file_types_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogFormatError, match=r"no \.csv, \.csv\.gz or \.parquet"):
        resolve_sources([tmp_path])
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(CatalogFormatError, match=r"not a \.csv"):
        resolve_sources([tmp_path / "x.json"])
    with pytest.raises(FileNotFoundError, match="nope"):
        resolve_sources([tmp_path / "nope.csv"])


def test_parquet_reads_like_the_csv(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    target = tmp_path / "kaggle.parquet"
    pq.write_table(pacsv.read_csv(CATALOG / "kaggle_sample.csv"), target)
    from_parquet = parse_catalog(target)
    from_csv = parse_catalog(CATALOG / "kaggle_sample.csv")
    assert from_parquet.rows[0]["catalog_name"] == "kaggle_114k"
    assert len(from_parquet.rows) == 60 and from_parquet.lines[:2] == [1, 2]
    keys = ["track_id", "artists", "valence", "key", "explicit", "duration_ms", "instrumentalness", "genre"]
    assert [[r[k] for k in keys] for r in from_parquet.rows] == [[r[k] for k in keys] for r in from_csv.rows]


def test_hash_covers_the_catalog_name_and_numbers_repeats_across_chunks(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rep.csv", ["track_id", "genre"], [[ID, "pop"]] * 3 + [[ID, "rock"]])
    whole = parse_catalog(path)
    assert len(set(whole.raw)) == 4, "identical records keep one hash each"
    [source] = resolve_sources([path])
    chunks = list(parse_source(source, LoadState(), chunk_rows=2))
    assert [len(c.rows) for c in chunks] == [2, 2, 0]
    assert [raw for c in chunks for raw in c.raw] == whole.raw
    assert parse_catalog(path, name="other").raw != whole.raw


def test_gzip_and_plain_csv_parse_alike(tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "tt.csv.gz"
    target.write_bytes(gzip.compress((CATALOG / "tidytuesday_sample.csv").read_bytes()))
    assert parse_catalog(target).raw == parse_catalog(CATALOG / "tidytuesday_sample.csv").raw


def test_bundled_catalogs_are_the_documented_files() -> None:
    names = dict(BUNDLED_CATALOGS)
    assert list(names) == ["tidytuesday", "kaggle_114k"]
    kaggle = names["kaggle_114k"]
    digest = hashlib.sha256(kaggle.read_bytes()).hexdigest()
    assert digest == "1dca340b08ca6ab64ed8a2b6b3f4b886d6312c60d9c34ef8e5bf086944402fd8", "keep the file as published"
    for _, path in BUNDLED_CATALOGS:
        [source] = resolve_sources([path])
        assert source.layout.default_catalog == {v: k for k, v in names.items()}[path]
