"""Recovery by Delta time travel (issue 14): a bad load is undone with `restore`, and the next build
rebuilds Gold without it.

The bad load: another listener's export landed under this listener's id by mistake. After restoring
Bronze to the version before it, an incremental dbt run alone would keep the merged plays in Gold;
the restore's rebuild request turns the next run into a full refresh, and Gold is back to exactly the
plays of the good load.
"""

from __future__ import annotations

import time

import pytest
from pyspark.sql import functions as F

from ingestion.formats import EXTENDED_TABLE
from moodlake.core.dbt import invoke_dbt
from moodlake.core.timetravel import TimeTravelError, clear_rebuild, rebuild_reasons, restore_table, table_history
from tests.support.marts import MARTS, land_catalog

USER = "fixture-lena-restore"  # an id of this test's own: other tests land the fixture listeners too
SELECT = ["--select", "+fct_plays", "--exclude", "resource_type:snapshot"]


def _land(spark, settings, folder: str) -> None:
    from ingestion.history import ingest_history_paths

    ingest_history_paths(spark, settings, [MARTS / folder], user=USER, timezone="Europe/Berlin")


def _gold_play_ids(spark) -> set[str]:
    return {r["play_id"] for r in spark.table("gold.fct_plays").where(F.col("user_id") == USER).select("play_id").collect()}


def _bronze_rows(spark) -> int:
    return spark.table(EXTENDED_TABLE).where(F.col("user_id") == USER).count()


def _run(settings):
    outcome = invoke_dbt(settings, ["run", *SELECT])
    assert outcome.success, outcome.error or outcome.failures[:3]
    return outcome


def test_restore_undoes_a_bad_load_and_the_next_run_rebuilds_gold(spark, settings) -> None:
    clear_rebuild(settings)
    land_catalog(spark)
    assert invoke_dbt(settings, ["seed"]).success
    _land(spark, settings, "fixture-lena")
    good = table_history(spark, EXTENDED_TABLE, limit=1)[0]
    good_rows = _bronze_rows(spark)
    _run(settings)
    good_plays = _gold_play_ids(spark)
    assert good_plays

    time.sleep(1.1)  # commit timestamps have millisecond precision; keep the two loads a second apart
    _land(spark, settings, "fixture-omar")  # the mistake
    bad = table_history(spark, EXTENDED_TABLE, limit=1)[0]
    assert bad.version > good.version and bad.rows_written and bad.rows_written > 0
    _run(settings)
    assert _gold_play_ids(spark) > good_plays, "the bad load did not reach Gold, so the test proves nothing"

    try:
        result = restore_table(spark, settings, EXTENDED_TABLE, as_of=good.timestamp)
        assert result.restored_to == good.version and result.new_version == bad.version + 1
        assert _bronze_rows(spark) == good_rows
        assert [r["table"] for r in rebuild_reasons(settings)] == [EXTENDED_TABLE]
        assert table_history(spark, EXTENDED_TABLE, limit=1)[0].operation == "RESTORE"

        outcome = _run(settings)
        assert outcome.forced_full_refresh and EXTENDED_TABLE in outcome.forced_full_refresh
        assert _gold_play_ids(spark) == good_plays
        # a narrower selection was refreshed; the whole project still owes its rebuild
        assert rebuild_reasons(settings)
    finally:
        clear_rebuild(settings)


def test_restore_refuses_unknown_tables_versions_and_times(spark, settings) -> None:
    land_catalog(spark)
    versions = [v.version for v in table_history(spark, "bronze.catalog_tracks")]
    with pytest.raises(TimeTravelError, match=r"no Delta table 'bronze.catalog_trakcs'.*bronze.catalog_tracks"):
        restore_table(spark, settings, "bronze.catalog_trakcs", version=0)
    with pytest.raises(TimeTravelError, match=rf"has versions 0..{max(versions)}; there is no version 9999"):
        restore_table(spark, settings, "bronze.catalog_tracks", version=9999)
    with pytest.raises(TimeTravelError, match="did not exist at 2001-01-01"):
        restore_table(spark, settings, "bronze.catalog_tracks", as_of="2001-01-01")
    with pytest.raises(TimeTravelError, match="exactly one of"):
        restore_table(spark, settings, "bronze.catalog_tracks")
    assert not rebuild_reasons(settings)
