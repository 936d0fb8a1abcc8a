"""Trino over Spark-written Delta: same rows, same names, new versions without restart, idempotent."""

from __future__ import annotations

import socket

import pytest

from moodlake.serve import trino
from moodlake.serve.register import DeltaTable, discover_tables, register_tables

pytestmark = pytest.mark.serving


def test_server_binds_loopback_only(trino_server) -> None:
    info = trino.server_info(trino_server)
    assert info and info["starting"] is False
    # the configured node address is loopback, so nothing is exposed beyond this machine
    assert trino.trino_paths(trino_server).etc.joinpath("node.properties").read_text().count("127.0.0.1") == 2


def test_counts_match_spark(trino_server, registered, spark, sample_gold, gold_dir) -> None:
    assert {f"gold.{name}" for name in sample_gold} <= set(registered.tables)
    assert {"mart_listening_coverage", "mart_unmatched_top"} <= set(sample_gold)
    for name in sample_gold:
        spark_count = spark.read.format("delta").load(str(gold_dir / name)).count()
        (trino_count,), = trino.query(trino_server, f"select count(*) from delta.gold.{name}")
        assert trino_count == spark_count, name


def test_new_delta_version_visible_without_restart(trino_server, spark, gold_dir) -> None:
    path = str(gold_dir / "serving_probe")
    spark.range(5).write.format("delta").mode("overwrite").save(path)
    register_tables(trino_server)
    pid = trino.running_pid(trino_server)
    assert trino.query(trino_server, "select count(*) from delta.gold.serving_probe") == [[5]]
    spark.range(5, 12).write.format("delta").mode("append").save(path)
    assert trino.query(trino_server, "select count(*) from delta.gold.serving_probe") == [[12]]
    from pyspark.sql import functions as F

    spark.range(99, 100).withColumn("note", F.lit("schema change")).write.format("delta").mode("append") \
        .option("mergeSchema", "true").save(path)
    assert trino.query(trino_server, "select note from delta.gold.serving_probe where id = 99") == [["schema change"]]
    assert trino.running_pid(trino_server) == pid, "Trino must not have been restarted"


def test_registration_is_idempotent_and_follows_moves(trino_server, registered, spark) -> None:
    again = register_tables(trino_server)
    assert again.registered == [] and again.relocated == [] and again.unregistered == []
    assert set(again.unchanged) >= set(registered.tables)

    # a table Spark moved: same name, other folder -> re-pointed, not duplicated
    from pathlib import Path

    root = Path(trino.warehouse_path(trino_server))
    for folder in ("moved_a", "moved_b"):
        spark.range(3 if folder == "moved_a" else 4).write.format("delta").mode("overwrite").save(
            str(root / "silver.db" / folder))
    first = register_tables(trino_server, [DeltaTable("silver", "moved", root / "silver.db" / "moved_a")])
    assert first.registered == ["silver.moved"]
    second = register_tables(trino_server, [DeltaTable("silver", "moved", root / "silver.db" / "moved_b")])
    assert second.relocated == ["silver.moved"]
    assert trino.query(trino_server, "select count(*) from delta.silver.moved") == [[4]]

    # a full scan prunes what no longer exists in the warehouse (metadata only)
    pruned = register_tables(trino_server)
    assert "silver.moved" in pruned.unregistered
    assert {("silver", "moved_a"), ("silver", "moved_b")} <= {(t.schema, t.name) for t in discover_tables(trino_server)}


def test_serving_views_read_gold(trino_server, serving_views, spark, gold_dir) -> None:
    assert serving_views.success, serving_views.error or serving_views.statuses
    (plays,), = trino.query(trino_server, "select count(*) from delta.serving.plays")
    assert plays == spark.read.format("delta").load(str(gold_dir / "fct_plays")).count()
    labels = {row[0] for row in trino.query(trino_server, "select distinct weekday_label from delta.serving.plays")}
    assert labels <= {"1 Mon", "2 Tue", "3 Wed", "4 Thu", "5 Fri", "6 Sat", "7 Sun"}


def test_coverage_views_read_gold(trino_server, serving_views, spark, gold_dir) -> None:
    """The catalog-coverage views: every listener-year has all four rungs, shares add up, tops are 1..20."""
    assert serving_views.success, serving_views.error or serving_views.statuses
    for view, mart in (("listening_coverage", "mart_listening_coverage"), ("unmatched_top", "mart_unmatched_top")):
        (count,), = trino.query(trino_server, f"select count(*) from delta.serving.{view}")
        assert count == spark.read.format("delta").load(str(gold_dir / mart)).count() > 0, view
    years = trino.query(trino_server, """
        select local_year, count(*), array_join(array_agg(match_level order by level_order), ','),
               round(sum(play_share), 9), round(sum(minute_share), 9), sum(plays), max(year_plays)
        from delta.serving.listening_coverage group by user_id, local_year""")
    assert len(years) >= 2
    for _year, levels, ladder, play_share, minute_share, plays, year_plays in years:
        assert (levels, ladder) == (4, "track_id,track_name,artist,unknown")
        assert play_share == minute_share == 1.0 and plays == year_plays
    tops = trino.query(trino_server, """
        select kind, min(rank), max(rank), count(*), count(track_name) from delta.serving.unmatched_top
        group by kind order by kind""")
    assert tops == [["artist", 1, 20, 20, 0], ["track", 1, 20, 20, 20]]


def test_port_in_use_is_reported(tmp_path) -> None:
    from moodlake.core.settings import load_settings

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        busy = load_settings(home=tmp_path, warehouse=None, trino_port=blocker.getsockname()[1])
        with pytest.raises(trino.ServeError, match="already in use"):
            trino.start_trino(busy)


def test_sql_helpers_round_trip_in_trino(trino_server, registered) -> None:
    """What moodlake.core.sql renders (registration builds its statements with it), Trino reads back unchanged."""
    from moodlake.core.sql import literal, table

    for value in ("it's", "back\\slash'", "Ünïcödé 音楽 😀", "two\nlines", "'; drop table x; --"):
        assert trino.query(trino_server, f"select {literal(value, dialect='trino')}") == [[value]], value
    tables = table("delta", "information_schema", "tables", dialect="trino")
    rows = trino.query(trino_server, f"select count(*) from {tables} where table_schema = {literal('gold', 'trino')}")
    assert rows[0][0] > 0
