"""Fetch the Delta Lake jars once with Maven into a cache outside the clone.

The ``delta-spark`` pip package ships no jars and its helper would ask Ivy at every session start.
We resolve them with ``mvn`` during set-up instead, copy only Delta's own artifacts (Spark already
ships Scala, Hadoop, Parquet and Jackson), and hand Spark explicit ``spark.jars`` paths.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

DELTA_VERSION = "4.4.0"  # 4.4.1 is on PyPI but not on Maven Central; python and jars must agree
SPARK_BINARY = "4.2"
DELTA_ARTIFACT = f"io.delta:delta-spark_{SPARK_BINARY}_2.13:{DELTA_VERSION}"
DELTA_GROUPS = "io.delta,io.unitycatalog"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>moodlake</groupId><artifactId>delta-jars</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>
  </dependencies>
</project>
"""


class SetupError(RuntimeError):
    """A set-up prerequisite is missing; the message says what to install."""


def delta_jar_dir(cache_dir: Path) -> Path:
    return cache_dir / "jars" / f"delta-{DELTA_VERSION}-spark{SPARK_BINARY}"


def delta_jars(cache_dir: Path) -> list[Path]:
    """The cached jars, or a SetupError telling the user to run set-up."""
    folder = delta_jar_dir(cache_dir)
    jars = sorted(folder.glob("*.jar"))
    if not (folder / ".complete").exists() or not jars:
        raise SetupError(f"Delta jars are missing in {folder}: run `make setup` (or `moodlake setup`).")
    return jars


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SetupError(f"`{name}` was not found on PATH. {hint}")
    return path


def fetch_delta_jars(cache_dir: Path) -> list[Path]:
    """Resolve Delta and its own dependencies with Maven; a no-op when already cached."""
    folder = delta_jar_dir(cache_dir)
    if (folder / ".complete").exists():
        return delta_jars(cache_dir)
    mvn = require_tool("mvn", "Install Maven (`apt-get install maven`); it fetches the Delta jars once.")
    require_tool("java", "Install a JDK 17 (`apt-get install openjdk-17-jdk-headless`).")
    group, artifact, version = DELTA_ARTIFACT.split(":")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_POM.format(g=group, a=artifact, v=version))
        cmd = [
            mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
            f"-DincludeGroupIds={DELTA_GROUPS}", f"-DoutputDirectory={folder}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SetupError(f"mvn could not fetch {DELTA_ARTIFACT}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    (folder / ".complete").write_text(DELTA_ARTIFACT + "\n")
    return delta_jars(cache_dir)
