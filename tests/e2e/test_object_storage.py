"""An s3a:// warehouse by configuration alone: the real CLI, Spark, Delta and dbt against an S3 server.

The S3 endpoint is moto's standalone server (a local S3-compatible HTTP service, the stand-in for
MinIO or AWS here: no object store is reachable from this machine). Nothing in Moodlake is mocked:
the commands run as a user runs them, only with MOODLAKE_* and AWS_* environment variables set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodlake.serve.procs import free_port
from tests.conftest import FIXTURES, moodlake

BUCKET = "moodlake-lake"
CATALOG = FIXTURES / "catalog" / "tidytuesday_sample.csv"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def s3_env(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Only configuration: where the warehouse is, how to reach the store, the credentials."""
    spark_conf = {
        "spark.hadoop.fs.s3a.endpoint": s3_endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
    }
    return {
        **os.environ,
        "MOODLAKE_HOME": str(tmp_path_factory.mktemp("s3_home")),
        "MOODLAKE_WAREHOUSE": f"s3a://{BUCKET}/warehouse",
        "MOODLAKE_SPARK_CONF": json.dumps(spark_conf),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "moodlake-test-secret-7f3a",  # moto accepts any; distinctive to grep for
        "AWS_REGION": "us-east-1",
    }


def test_catalog_to_gold_on_an_s3a_warehouse(s3_env: dict[str, str], s3_endpoint: str) -> None:
    import boto3

    out = moodlake(s3_env, "setup")
    assert "s3a jars" in out
    moodlake(s3_env, "ingest", "catalog", str(CATALOG))
    moodlake(s3_env, "ingest", "catalog", str(CATALOG))  # idempotent on object storage too
    moodlake(s3_env, "transform", "build", "--select", "+dim_tracks")
    status = json.loads(moodlake(s3_env, "status", "--json"))
    tables = {t["name"]: t for t in status["tables"]}
    assert tables["bronze.catalog_tracks"]["rows"] == 135
    assert tables["gold.dim_tracks"]["rows"] == 120
    for name in ("bronze.catalog_tracks", "silver.int_tracks_deduplicated", "gold.dim_tracks"):
        assert tables[name]["location"].startswith(f"s3a://{BUCKET}/warehouse/"), tables[name]
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="warehouse/gold.db/dim_tracks/")["Contents"]]
    assert any(k.endswith("_delta_log/00000000000000000000.json") for k in keys)
    assert any(k.endswith(".parquet") for k in keys)
    home = Path(s3_env["MOODLAKE_HOME"])
    assert not (home / "warehouse").exists(), "nothing may land in the local default warehouse"


@pytest.mark.serving
def test_trino_serves_the_s3a_warehouse(s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Registration finds the tables in the bucket; Trino's counts equal Spark's (status)."""
    from moodlake.core.settings import load_settings
    from moodlake.serve import trino
    from moodlake.serve.register import discover_tables, register_tables

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.setenv(key, s3_env[key])
    settings = load_settings(home=Path(s3_env["MOODLAKE_HOME"]), warehouse=s3_env["MOODLAKE_WAREHOUSE"],
                             spark_conf=json.loads(s3_env["MOODLAKE_SPARK_CONF"]), trino_port=free_port())
    status = json.loads(moodlake(s3_env, "status", "--json"))
    spark_rows = {t["name"]: t["rows"] for t in status["tables"] if t["layer"] in ("silver", "gold")}
    assert {f"{t.schema}.{t.name}" for t in discover_tables(settings)} == set(spark_rows)
    trino.start_trino(settings)
    try:
        result = register_tables(settings)
        assert set(result.tables) == set(spark_rows)
        for name, rows in spark_rows.items():
            assert trino.query(settings, f"select count(*) from delta.{name}")[0][0] == rows, name
        again = register_tables(settings)
        assert sorted(again.unchanged) == result.tables and not again.registered and not again.relocated
        catalog = (trino.trino_paths(settings).catalog / "delta.properties").read_text()
        assert "fs.native-s3.enabled=true" in catalog
        assert s3_env["AWS_SECRET_ACCESS_KEY"] not in catalog, "credentials stay in the environment"
    finally:
        trino.stop_trino(settings)
