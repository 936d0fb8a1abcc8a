"""The one Spark session factory shared by loaders, dbt and ML in a process.

Static configuration (Delta extensions and catalog, Hive metastore, jars) only counts for whoever
creates the JVM session, so every entry point calls :func:`get_spark` before anything else;
dbt-spark's ``method: session`` then reuses this session via ``getOrCreate()``.

The JVM logs nothing to the terminal: log4j2 writes to ``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log``
(``moodlake/core/log4j2.properties``), and the JVM's own stdout/stderr go to that file too (see
:mod:`moodlake.core.logs`).
"""

from __future__ import annotations

import os

from pyspark.sql import SparkSession

from moodlake.core import homelock
from moodlake.core.errors import MoodlakeError
from moodlake.core.jars import delta_jars, s3a_jars
from moodlake.core.java import spark_java_home
from moodlake.core.logs import java_log_options, log_path, stream_for_jvm
from moodlake.core.settings import Settings
from moodlake.core.sql import identifier, literal


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
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={metastore} -Dderby.stream.error.file={metastore}/derby.log {java_log_options(settings)}"
        ),
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
    if extra.get("spark.driver.extraJavaOptions"):
        # user JVM options come after ours (a repeated -D wins), never dropping the metastore and log options
        conf["spark.driver.extraJavaOptions"] += f" {extra.pop('spark.driver.extraJavaOptions')}"
    conf.update(extra)
    return conf


def get_spark(settings: Settings) -> SparkSession:
    """Create (or return) the process-wide session with Delta and the Hive metastore."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings.ensure_dirs()
    homelock.acquire(settings.home, settings.lock_wait_seconds)  # one JVM per embedded metastore
    os.environ.setdefault("JAVA_HOME", str(spark_java_home()))
    if settings.spark_master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", _python()))
    conf = spark_conf(settings)
    _launch_jvm(settings, conf)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    for schema in ("bronze", "silver", "gold"):
        location = literal(f"{settings.warehouse_uri}/{schema}.db")
        spark.sql(f"create schema if not exists {identifier(schema)} location {location}")
    return spark


def _launch_jvm(settings: Settings, conf: dict[str, str]) -> None:
    """Start the driver JVM (py4j gateway) with its stdout and stderr appended to the log file.

    pyspark would start it on ``getOrCreate()`` with the terminal as stdout/stderr, where the JVM
    prints e.g. "WARNING: Using incubator modules" before any log4j configuration applies. Same
    spark-submit command and conf as pyspark's own launch; a JVM that already runs is kept.
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.errors import PySparkRuntimeError
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None or "PYSPARK_GATEWAY_PORT" in os.environ:
        return
    spark_conf_ = SparkConf(loadDefaults=False)
    for key, value in conf.items():
        spark_conf_.set(key, value)
    spark_conf_.set("spark.sql.catalogImplementation", "hive")
    with stream_for_jvm(settings) as out:
        try:
            gateway = launch_gateway(spark_conf_, popen_kwargs={"stdout": out, "stderr": out})
        except PySparkRuntimeError as exc:
            raise SparkStartError(f"Spark's JVM did not start ({exc}); its output is in {log_path(settings)}") from exc
    SparkContext._ensure_initialized(gateway=gateway)


class SparkStartError(MoodlakeError):
    """The driver JVM exited before it was ready; the message names the log file with its output."""


def _python() -> str:
    import sys

    return sys.executable


def table_location(spark: SparkSession, name: str) -> str:
    """Storage location of a Delta table (``name`` like ``gold.fct_plays``), as the metastore knows it."""
    from delta.tables import DeltaTable

    row = DeltaTable.forName(spark, name).detail().select("location").first()
    return str(row["location"]) if row else ""
