"""A Spark standalone cluster by configuration alone: the real CLI against a master and a worker.

The master and worker are Spark's own daemons from the pyspark install (``spark-class``), bound to
127.0.0.1 on free ports. Moodlake only gets ``MOODLAKE_SPARK_MASTER=spark://…``; the Delta jars
travel to the executor through ``spark.jars`` like on any cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodlake.serve.procs import free_port, terminate, wait_for
from tests.conftest import FIXTURES, moodlake

CATALOG = FIXTURES / "catalog" / "kaggle_sample.csv"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    logs = tmp_path_factory.mktemp("spark_cluster")
    home = spark_home()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false", "SPARK_WORKER_DIR": str(logs / "work")}
    port, ui = free_port(), free_port()
    spark_class = str(home / "bin" / "spark-class")
    master = subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(ui)], env=env, stdout=(logs / "master.log").open("w"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1",
         "--cores", "1", "--memory", "2g", "--webui-port", str(free_port())],
        env=env, stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT)
    try:
        registered = wait_for(lambda: "Successfully registered with master" in (logs / "worker.log").read_text(), 120)
        assert registered, (logs / "worker.log").read_text()[-3000:]
        yield {"master": f"spark://127.0.0.1:{port}", "logs": str(logs)}
    finally:
        for proc in (worker, master):
            terminate(proc.pid)


def test_catalog_to_gold_on_a_standalone_cluster(cluster: dict[str, str], tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MOODLAKE_HOME": str(tmp_path / "home"),
        "MOODLAKE_SPARK_MASTER": cluster["master"],
        "MOODLAKE_DRIVER_MEMORY": "2g",
        # executors run Python with the project's packages, as on a cluster with a shared environment
        "PYSPARK_PYTHON": sys.executable,
        # the driver must be reachable from the executor; on a real cluster this is the driver's address
        "MOODLAKE_SPARK_CONF": json.dumps({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                                           "spark.executor.memory": "1g", "spark.cores.max": "1"}),
    }
    moodlake(env, "ingest", "catalog", str(CATALOG))
    moodlake(env, "transform", "build", "--select", "+dim_tracks")
    status = json.loads(moodlake(env, "status", "--json"))
    tables = {t["name"]: t for t in status["tables"]}
    assert tables["bronze.catalog_tracks"]["rows"] > 0
    assert tables["gold.dim_tracks"]["rows"] == tables["silver.int_tracks_deduplicated"]["rows"] > 0
    worker_log = (Path(cluster["logs"]) / "worker.log").read_text()
    assert worker_log.count("Asked to launch executor") >= 3, "every command ran its tasks on the cluster's executor"
