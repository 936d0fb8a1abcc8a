"""The one Spark session factory shared by loaders, dbt and ML in a process.

Static configuration (Delta extensions and catalog, Hive metastore, jars) only counts for whoever
creates the JVM session, so every entry point calls :func:`get_spark` before anything else;
dbt-spark's ``method: session`` then reuses this session via ``getOrCreate()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from moodlake.core.jars import delta_jars, s3a_jars
from moodlake.core.java import spark_java_home
from moodlake.core.settings import Settings


def spark_conf(settings: Settings) -> dict[str, str]:
    """All Spark conf for our session; user extras from settings win (``spark.jars`` is appended)."""
    metastore = settings.metastore_dir.resolve()
    conf = {
        "spark.master": settings.spark_master,
        "spark.app.name": "moodlake",
        "spark.jars": ",".join(
            str(p) for p in [*delta_jars(settings.cache_dir), *(s3a_jars(settings.cache_dir) if settings.uses_s3a else [])]
        ),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": settings.warehouse_uri,
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={metastore} -Dderby.stream.error.file={metastore}/derby.log",
        "spark.driver.memory": settings.driver_memory,
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.databricks.delta.retentionDurationCheck.enabled": "true",
    }
    if settings.spark_master.startswith("local"):
        # one machine: never listen beyond loopback
        conf["spark.driver.bindAddress"] = "127.0.0.1"
        conf["spark.driver.host"] = "127.0.0.1"
    extra = dict(settings.spark_conf)
    if extra.get("spark.jars"):
        # e.g. hadoop-aws for s3a://: added to the Delta jars, never replacing them
        conf["spark.jars"] = f"{conf['spark.jars']},{extra.pop('spark.jars')}"
    conf.update(extra)
    return conf


def get_spark(settings: Settings) -> SparkSession:
    """Create (or return) the process-wide session with Delta and the Hive metastore."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings.ensure_dirs()
    os.environ.setdefault("JAVA_HOME", str(spark_java_home()))
    if settings.spark_master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", _python()))
    builder = SparkSession.builder
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    for schema in ("bronze", "silver", "gold"):
        spark.sql(f"create schema if not exists {schema} location '{settings.warehouse_uri}/{schema}.db'")
    return spark


def _python() -> str:
    import sys

    return sys.executable


def table_location(spark: SparkSession, name: str) -> str:
    """Storage location of a Delta table, as the metastore knows it."""
    row = spark.sql(f"describe detail {name}").select("location").first()
    return str(row["location"]) if row else ""


def table_exists(spark: SparkSession, name: str) -> bool:
    return spark.catalog.tableExists(name)


def local_path(uri: str) -> Path | None:
    """A local path for a file: URI or plain path; None for object storage."""
    if uri.startswith("file:"):
        return Path(uri.removeprefix("file:"))
    if "://" in uri:
        return None
    return Path(uri)
