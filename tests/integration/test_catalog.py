"""Catalog CSV -> bronze.catalog_tracks on real Spark + Delta: layouts, idempotency, quarantine."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from ingestion.catalog import CatalogFormatError, ingest_catalog_files, parse_catalog
from tests.conftest import FIXTURES, shared_data

CATALOG = FIXTURES / "catalog"


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
    row = spark.table("bronze.catalog_tracks").where("track_id = '6f807x0ima9a1j3VPbc7VN'").first()
    assert row["artists"] == "Ed Sheeran"
    assert row["popularity"] == 66
    assert row["genre"] == "pop" and row["subgenre"] == "dance pop"
    assert row["album_release_date"] == "2019-06-14"
    assert row["explicit"] is None and row["time_signature"] is None
    assert row["source_layout"] == "tidytuesday_songs"
    assert abs(row["valence"] - 0.518) < 1e-9 and row["duration_ms"] == 194754
    assert len(row["_record_hash"]) == 64 and row["_batch_id"] and row["_line"] == 2


def test_kaggle_layout_maps_onto_the_schema(spark) -> None:
    path = CATALOG / "kaggle_sample.csv"
    [result] = ingest_catalog_files(spark, [path])
    assert result.inserted + result.already_present == 60
    frame = spark.table("bronze.catalog_tracks").where(f"_source_file = '{path.resolve()}'")
    assert frame.count() == 60
    assert {r["source_layout"] for r in frame.select("source_layout").collect()} == {"kaggle_tracks"}
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


def test_unknown_layout_lists_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "playlist.csv"
    path.write_text("id,name,valence\n1,x,0.5\n")
    with pytest.raises(CatalogFormatError) as err:
        parse_catalog(path)
    message = str(err.value)
    assert str(path.resolve()) in message
    assert "kaggle_tracks needs track_id" in message and "track_genre" in message
    assert "tidytuesday_songs needs" in message and "track_artist" in message


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
