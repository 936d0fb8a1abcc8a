"""Catalogs -> bronze.catalog_tracks on real Spark + Delta: layouts, --map, folders, Parquet, idempotency,
quarantine, schema evolution of an older table, and the shared-data acceptance loads."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from ingestion.catalog import SCHEMA, TABLE, CatalogFormatError, ingest_catalog_files
from tests.conftest import FIXTURES, shared_data

CATALOG = FIXTURES / "catalog"
CUSTOM_MAP = [
    "track_id=Spotify Link", "track_name=Song", "artist_name=Performer", "album_name=LP",
    "release_date=Released", "popularity=Popularity", "duration_ms=Length (ms)", "genre=Style", "tempo=BPM",
]


def rows_from(spark, table: str, path: Path) -> int:
    return spark.table(table).where(f"_source_file = '{path.resolve()}'").count()


def file_track_ids(path: Path) -> set[str]:
    """Distinct track ids read straight from the CSV, independent of the loader under test."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["track_id"] for row in csv.DictReader(handle)}


def test_tidytuesday_layout_maps_onto_the_schema(spark) -> None:
    path = CATALOG / "tidytuesday_sample.csv"
    [result] = ingest_catalog_files(spark, [path])
    assert result.input_records == 135
    # the TidyTuesday row of this file's line 2: other tests of the session may land the bundled catalogs
    # (the Kaggle 114k lists the same id; identical TidyTuesday rows count as already present)
    rows = spark.table("bronze.catalog_tracks").where(
        (F.col("track_id") == "6f807x0ima9a1j3VPbc7VN") & (F.col("catalog_name") == "tidytuesday") & (F.col("_line") == 2)
    )
    row = rows.first()
    assert row["artists"] == "Ed Sheeran"
    assert row["popularity"] == 66
    assert row["genre"] == "pop" and row["subgenre"] == "dance pop"
    assert row["album_release_date"] == "2019-06-14"
    assert row["explicit"] is None and row["time_signature"] is None
    assert row["source_layout"] == "tidytuesday_songs" and row["catalog_name"] == "tidytuesday"
    assert row["artist_genres"] is None and row["_ingested_at"] is not None
    assert abs(row["valence"] - 0.518) < 1e-9 and row["duration_ms"] == 194754
    assert len(row["_record_hash"]) == 64 and row["_batch_id"] and row["_line"] == 2


def test_kaggle_layout_maps_onto_the_schema(spark) -> None:
    path = CATALOG / "kaggle_sample.csv"
    [result] = ingest_catalog_files(spark, [path])
    assert result.inserted + result.already_present == 60
    frame = spark.table("bronze.catalog_tracks").where(f"_source_file = '{path.resolve()}'")
    assert frame.count() == 60
    assert {tuple(r) for r in frame.select("source_layout", "catalog_name").distinct().collect()} == {
        ("kaggle_tracks", "kaggle_114k")
    }
    assert frame.where("time_signature = 4").count() == 60
    assert frame.where("explicit").count() == 9  # every 7th row of 60 is flagged explicit
    assert frame.where("playlist_id is not null").count() == 0


def test_same_file_twice_adds_nothing(spark, tmp_path: Path) -> None:
    copy = tmp_path / "again.csv"
    shutil.copy(CATALOG / "tidytuesday_sample.csv", copy)
    ingest_catalog_files(spark, [CATALOG / "tidytuesday_sample.csv"])
    before = spark.table("bronze.catalog_tracks").count()
    [again] = ingest_catalog_files(spark, [CATALOG / "tidytuesday_sample.csv"])
    [renamed] = ingest_catalog_files(spark, [copy])
    assert again.inserted == 0 and again.already_present == 135
    assert renamed.inserted == 0, "content already landed under another name must not be added twice"
    assert spark.table("bronze.catalog_tracks").count() == before


def test_broken_rows_go_to_quarantine_with_line_field_and_reason(spark) -> None:
    path = CATALOG / "kaggle_broken.csv"
    [result] = ingest_catalog_files(spark, [path])
    assert result.input_records == 14
    assert result.inserted + result.already_present == 10
    assert result.quarantined == 4
    assert result.input_records == result.inserted + result.already_present + result.quarantined
    quarantined = {
        r["_line"]: (r["field"], r["reason"])
        for r in spark.table("bronze.quarantine").where(f"_source_file = '{path.resolve()}'").collect()
    }
    assert set(quarantined) == {12, 13, 14, 15}
    assert quarantined[12][0] == "danceability" and "wrong type" in quarantined[12][1]
    assert quarantined[13][0] == "valence" and "outside [0.0, 1.0]" in quarantined[13][1]
    assert quarantined[14] == ("track_id", "missing track id")
    assert quarantined[15][0] is None and "expected 21 columns, found 18" in quarantined[15][1]
    assert rows_from(spark, "bronze.catalog_tracks", path) == 10


def version(spark, table: str = TABLE) -> int:
    return spark.sql(f"describe history {table} limit 1").first()["version"]


def catalog_rows(spark, path: Path, table: str = TABLE):
    return spark.table(table).where(f"_source_file = '{path.resolve()}'")


def quarantined(spark, path: Path) -> dict[int, tuple[str | None, str]]:
    rows = spark.table("bronze.quarantine").where(f"_source_file = '{path.resolve()}'").collect()
    return {r["_line"]: (r["field"], r["reason"]) for r in rows}


def test_genre_pull_layout_lands_with_its_catalog_name(spark) -> None:
    path = CATALOG / "genre_pull_sample.csv"
    [result] = ingest_catalog_files(spark, [path])
    assert result.input_records == 33 and result.quarantined == 0
    frame = catalog_rows(spark, path)
    assert frame.count() == 33 and frame.select("track_id").distinct().count() == 30
    row = frame.where("track_id = '4QAUGy6k7c3IOAhgWz52r7' and genre = 'dance pop'").first()
    assert row["catalog_name"] == "genre_pull_2024" and row["source_layout"] == "genre_pull_2024"
    assert row["artists"] == "Avicii" and row["album_release_date"] == "2019-08-23"
    assert row["artist_genres"] == "['pop', 'dance pop']" and row["explicit"] is True
    assert frame.where("genre = 'indie poptimism'").count() == 3, "a track found under another genre is kept"


def test_custom_layout_loads_with_map_and_normalises_ids(spark) -> None:
    path = CATALOG / "custom_layout.csv"
    # its own table: source_layout 'custom' is not yet among the values the dbt source tests accept
    table = "bronze.catalog_tracks_mapped"
    [result] = ingest_catalog_files(spark, [path], mapping=CUSTOM_MAP, table=table)
    assert result.input_records == 14 and result.quarantined == 2
    frame = catalog_rows(spark, path, table)
    assert frame.count() == 12
    assert {tuple(r) for r in frame.select("catalog_name", "source_layout").distinct().collect()} == {
        ("custom_layout", "custom")
    }
    assert frame.where("length(track_id) = 22 and track_id rlike '^[0-9A-Za-z]+$'").count() == 12
    link = frame.where("track_id = '3kgKVcBpBGuSeaEC0AZGlb'").first()  # given as https://open.spotify.com/track/...?si=
    assert link["artists"] == "Lil Nas X" and link["album_release_date"] == "2019-04-29"
    assert link["tempo"] > 0 and link["genre"] and link["duration_ms"] > 0
    assert frame.where("track_id = '5rxKInBVj0QE87KenyDiLf'").count() == 1  # given as spotify:track:...
    reasons = quarantined(spark, path)
    assert reasons[14][0] == "Spotify Link" and "not-a-track-id" in reasons[14][1]
    assert "open.spotify.com/album/" in reasons[15][1]


def test_a_folder_of_files_is_one_catalog(spark, tmp_path: Path) -> None:
    folder = tmp_path / "pull"
    folder.mkdir()
    with (CATALOG / "kaggle_sample.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    for i in range(3):
        with (folder / f"part_{i}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows[i * 20:(i + 1) * 20]])
    name = f"folder_{tmp_path.name}"
    results = ingest_catalog_files(spark, [folder], name=name)
    assert [r.source_file.rsplit("/", 1)[-1] for r in results] == ["part_0.csv", "part_1.csv", "part_2.csv"]
    assert [r.inserted for r in results] == [20, 20, 20]
    landed = spark.table(TABLE).where(f"catalog_name = '{name}'")
    assert landed.count() == 60 and landed.select("_source_file").distinct().count() == 3
    assert landed.select("_batch_id").distinct().count() == 3


def test_a_parquet_file_lands(spark, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = tmp_path / "tidytuesday.parquet"
    pq.write_table(pacsv.read_csv(CATALOG / "tidytuesday_sample.csv"), path, row_group_size=50)
    [result] = ingest_catalog_files(spark, [path], name=f"parquet_{tmp_path.name}")
    assert result.input_records == 135 and result.inserted == 135 and result.quarantined == 0
    row = catalog_rows(spark, path).where("track_id = '6f807x0ima9a1j3VPbc7VN'").first()
    assert row["artists"] == "Ed Sheeran" and row["album_release_date"] == "2019-06-14"
    assert row["popularity"] == 66 and abs(row["valence"] - 0.518) < 1e-9 and row["_line"] == 1


def test_conflicting_features_of_one_id_are_quarantined_naming_the_earlier_line(spark, tmp_path: Path) -> None:
    path = tmp_path / "conflict.csv"
    with (CATALOG / "kaggle_sample.csv").open(newline="", encoding="utf-8") as handle:
        header, first, *_ = list(csv.reader(handle))
    other_genre = [*first[:-1], "dance"]
    other_energy = list(first)
    other_energy[header.index("energy")] = "0.1"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, first, other_genre, other_energy])
    [result] = ingest_catalog_files(spark, [path], name=f"conflict_{tmp_path.name}")
    assert result.inserted == 2 and result.quarantined == 1
    [(line, (field, reason))] = quarantined(spark, path).items()
    assert line == 4 and field == "energy" and "different audio features than line 2" in reason


def test_a_layout_error_stops_before_any_write(spark, tmp_path: Path) -> None:
    ingest_catalog_files(spark, [CATALOG / "tidytuesday_sample.csv"])
    good = tmp_path / "good.csv"
    shutil.copy(CATALOG / "kaggle_sample.csv", good)
    bad = tmp_path / "playlist.csv"
    bad.write_text("id,name,valence\n1,x,0.5\n")
    before = version(spark), version(spark, "bronze.quarantine")
    with pytest.raises(CatalogFormatError) as err:
        ingest_catalog_files(spark, [good, bad], name=f"never_{tmp_path.name}")
    message = str(err.value)
    assert str(bad.resolve()) in message and "The file's columns: id, name, valence" in message
    assert "track_id, track_name, artist_name" in message and "--map OURS=THEIRS" in message
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(good, folder / "a.csv")
    shutil.copy(CATALOG / "tidytuesday_sample.csv", folder / "b.csv")
    with pytest.raises(CatalogFormatError, match=r"b\.csv differs from a\.csv"):
        ingest_catalog_files(spark, [folder], name=f"never_{tmp_path.name}")
    assert (version(spark), version(spark, "bronze.quarantine")) == before
    assert spark.table(TABLE).where(f"catalog_name = 'never_{tmp_path.name}'").count() == 0


def test_same_file_under_another_name_is_another_catalog(spark) -> None:
    path = CATALOG / "kaggle_sample.csv"
    ingest_catalog_files(spark, [path])
    [first] = ingest_catalog_files(spark, [path], name="kaggle_again")
    [second] = ingest_catalog_files(spark, [path], name="kaggle_again")
    assert first.inserted + first.already_present == 60 and second.inserted == 0
    assert spark.table(TABLE).where("catalog_name = 'kaggle_again'").count() == 60


def test_an_older_table_gains_the_new_columns(spark) -> None:
    from pyspark.sql import types as T

    from ingestion.bronze import full_schema

    table = "bronze.catalog_tracks_v1"
    spark.sql(f"drop table if exists {table}")
    old = full_schema(T.StructType([f for f in SCHEMA.fields if f.name not in ("catalog_name", "artist_genres")]))
    from datetime import datetime

    old_row = {f.name: None for f in old.fields} | {
        "track_id": "0r7CVbZTWZgbTCYdfa2P31", "source_layout": "tidytuesday_songs", "_source_file": "old.csv",
        "_line": 2, "_ingested_at": datetime(2025, 1, 1), "_batch_id": "old", "_record_hash": "0" * 64,
    }
    spark.createDataFrame([old_row], old).write.format("delta").saveAsTable(table)
    [result] = ingest_catalog_files(spark, [CATALOG / "genre_pull_sample.csv"], table=table)
    assert result.inserted == 33
    assert spark.table(table).columns == [f.name for f in full_schema(SCHEMA).fields]
    kept = spark.table(table).where("_batch_id = 'old'").first()
    assert kept["catalog_name"] is None and kept["track_id"] == "0r7CVbZTWZgbTCYdfa2P31"
    assert spark.table(table).where("catalog_name = 'genre_pull_2024' and artist_genres is not null").count() == 33
    [again] = ingest_catalog_files(spark, [CATALOG / "genre_pull_sample.csv"], table=table)
    assert again.inserted == 0 and spark.table(table).count() == 34
    spark.sql(f"drop table {table}")


def test_cli_reports_an_unknown_layout_without_starting_spark(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    bad = tmp_path / "playlist.csv"
    bad.write_text("id,name,valence\n1,x,0.5\n")
    env = {**os.environ, "MOODLAKE_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "moodlake", "ingest", "catalog", str(bad), "--map", "track_name=name"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unknown catalog layout" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "warehouse").exists()


def test_missing_file_is_a_clear_error(spark, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        ingest_catalog_files(spark, [tmp_path / "nope.csv"])


@pytest.mark.shared_data
def test_shared_tidytuesday_catalog_acceptance(spark, settings) -> None:
    """32,833 Bronze rows and 28,356 distinct tracks in Silver; loading again adds nothing."""
    from moodlake.core.dbt import invoke_dbt

    path = shared_data("catalog_tidytuesday_spotify_songs") / "spotify_songs.csv"
    [first] = ingest_catalog_files(spark, [path])
    assert first.input_records == 32833 and first.quarantined == 0
    assert rows_from(spark, "bronze.catalog_tracks", path) + first.already_present >= 32833
    [second] = ingest_catalog_files(spark, [path])
    assert second.inserted == 0 and second.already_present == 32833
    outcome = invoke_dbt(settings, ["build", "--select", "+int_tracks_deduplicated"])
    assert outcome.success, outcome.error
    # Ids come from the file itself: rows identical to ones landed earlier from another file
    # (the bundled demo catalog is this same dataset) keep that file's lineage in Bronze.
    ids = spark.createDataFrame([(i,) for i in file_track_ids(path)], "track_id string")
    assert ids.count() == 28356
    silver = spark.table("silver.int_tracks_deduplicated").join(ids, "track_id")
    assert silver.count() == 28356


@pytest.mark.shared_data
def test_shared_genre_pull_acceptance(spark) -> None:
    """77,566 rows, 63,382 distinct track ids (per its PROVENANCE), nothing quarantined; again adds nothing."""
    path = shared_data("catalog_genre_pull_2024") / "tracks_by_genre_2024-11-06.csv.gz"
    [first] = ingest_catalog_files(spark, [path])
    assert first.input_records == 77566 and first.quarantined == 0
    assert first.inserted + first.already_present == 77566
    frame = spark.table(TABLE).where("catalog_name = 'genre_pull_2024'").where(f"_source_file = '{path.resolve()}'")
    assert frame.count() == 77566
    assert frame.select("track_id").distinct().count() == 63382
    assert frame.where("artist_genres like '[%'").count() > 0 and frame.where("source_layout != 'genre_pull_2024'").count() == 0
    [second] = ingest_catalog_files(spark, [path])
    assert second.inserted == 0 and second.already_present == 77566


def test_dbt_builds_silver_and_gold_from_the_fixture_catalog(spark, settings) -> None:
    """dbt (session mode, shared Spark) turns the shipped fixture into Silver and Gold Delta tables."""
    from moodlake.core.dbt import invoke_dbt

    path = CATALOG / "tidytuesday_sample.csv"
    ingest_catalog_files(spark, [path])
    outcome = invoke_dbt(settings, ["build", "--select", "+dim_tracks"])
    assert outcome.success, outcome.error
    assert outcome.statuses, "dbt ran no node"
    ids = spark.createDataFrame([(i,) for i in file_track_ids(path)], "track_id string")
    dim = spark.table("gold.dim_tracks").join(ids, "track_id")
    assert dim.count() == 120
    repeated = dim.where("size(genres) > 1").count()
    assert repeated >= 1, "tracks listed under several playlist genres keep all of them"
    provider = spark.sql("describe detail gold.dim_tracks").first()["format"]
    assert provider == "delta"
