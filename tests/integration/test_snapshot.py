"""snap_catalog_tracks keeps SCD2 history across catalog re-loads: a track whose popularity or
genre list changed gets a closed old version and a new current one; unchanged tracks keep one."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.support.marts import CATALOG, dbt, land_catalog

CHANGED_POPULARITY = 2
SELECT = ["--select", "+int_tracks_deduplicated"]


def _versions(spark, track_id: str) -> list:
    return spark.sql(
        f"select popularity, genres, dbt_valid_from, dbt_valid_to from snapshots.snap_catalog_tracks "
        f"where track_id = '{track_id}' order by dbt_valid_from"
    ).collect()


def _modified_copy(tmp: Path) -> tuple[Path, dict[str, int], str, str]:
    """The fixture catalog with new popularity for two tracks and a new genre row for a third."""
    with CATALOG.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames or [], list(reader)
    ids = list(dict.fromkeys(r["track_id"] for r in rows))
    bumped = {tid: 0 for tid in ids[:CHANGED_POPULARITY]}
    for row in rows:
        if row["track_id"] in bumped:
            row["track_popularity"] = str((int(row["track_popularity"]) + 17) % 101)
            bumped[row["track_id"]] = int(row["track_popularity"])
    regenre_id = ids[CHANGED_POPULARITY]
    extra = dict(next(r for r in rows if r["track_id"] == regenre_id))
    extra.update(
        playlist_genre="fixture-genre", playlist_subgenre="fixture subgenre", playlist_name="Fixture", playlist_id="fixture"
    )
    rows.append(extra)
    path = tmp / "tidytuesday_sample_v2.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path, bumped, regenre_id, ids[CHANGED_POPULARITY + 1]


def test_snapshot_records_catalog_changes_between_loads(spark, settings, tmp_path):
    modified, bumped, regenre_id, unchanged_id = _modified_copy(tmp_path)
    land_catalog(spark)
    dbt(settings, ["seed"])
    dbt(settings, ["run", *SELECT])
    dbt(settings, ["snapshot", "--select", "snap_catalog_tracks"])
    before = {tid: len(_versions(spark, tid)) for tid in [*bumped, regenre_id, unchanged_id]}
    assert all(n >= 1 for n in before.values())

    land_catalog(spark, modified)
    dbt(settings, ["run", *SELECT])
    dbt(settings, ["snapshot", "--select", "snap_catalog_tracks"])

    for track_id, popularity in bumped.items():
        versions = _versions(spark, track_id)
        assert len(versions) == before[track_id] + 1
        old, new = versions[-2], versions[-1]
        assert old["dbt_valid_to"] is not None and new["dbt_valid_to"] is None
        assert old["dbt_valid_to"] == new["dbt_valid_from"]
        assert new["popularity"] == popularity != old["popularity"]
    regenre = _versions(spark, regenre_id)
    assert len(regenre) == before[regenre_id] + 1
    assert "fixture-genre" in regenre[-1]["genres"] and "fixture-genre" not in regenre[-2]["genres"]
    unchanged = _versions(spark, unchanged_id)
    assert len(unchanged) == before[unchanged_id] and unchanged[-1]["dbt_valid_to"] is None
    current = spark.sql(
        "select track_id, count(*) as n from snapshots.snap_catalog_tracks "
        "where dbt_valid_to is null group by track_id having n > 1"
    ).count()
    assert current == 0, "a track has more than one current version"
