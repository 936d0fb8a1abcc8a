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

from moodlake.core.errors import MoodlakeError

DELTA_VERSION = "4.4.0"  # 4.4.1 is on PyPI but not on Maven Central; python and jars must agree
SPARK_BINARY = "4.2"
DELTA_ARTIFACT = f"io.delta:delta-spark_{SPARK_BINARY}_2.13:{DELTA_VERSION}"
DELTA_GROUPS = "io.delta,io.unitycatalog"

# s3a:// support: hadoop-aws matching the Hadoop inside pyspark 4.2 (3.5.0) and the AWS SDK v2
# modules it was built against (2.35.4), instead of the 600 MB SDK bundle. Netty, httpclient and
# commons-* come with Spark already, so only these groups are copied.
HADOOP_VERSION = "3.5.0"
AWS_SDK_VERSION = "2.35.4"
S3A_ARTIFACTS = (
    f"org.apache.hadoop:hadoop-aws:{HADOOP_VERSION}",
    f"software.amazon.awssdk:s3:{AWS_SDK_VERSION}",
    f"software.amazon.awssdk:s3-transfer-manager:{AWS_SDK_VERSION}",
)
S3A_GROUPS = ("org.apache.hadoop,software.amazon.awssdk,software.amazon.eventstream,org.reactivestreams,"
              "software.amazon.s3.analyticsaccelerator")

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>moodlake</groupId><artifactId>runtime-jars</artifactId><version>1</version>
  <dependencies>
{deps}
  </dependencies>
</project>
"""
_DEP = ("    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
        "{excl}</dependency>")
_EXCLUDE = "<exclusions><exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion></exclusions>"


class SetupError(MoodlakeError):
    """A set-up prerequisite is missing; the message says what to install."""


def delta_jar_dir(cache_dir: Path) -> Path:
    return cache_dir / "jars" / f"delta-{DELTA_VERSION}-spark{SPARK_BINARY}"


def s3a_jar_dir(cache_dir: Path) -> Path:
    return cache_dir / "jars" / f"s3a-hadoop{HADOOP_VERSION}-sdk{AWS_SDK_VERSION}"


def _cached(folder: Path, what: str) -> list[Path]:
    jars = sorted(folder.glob("*.jar"))
    if not (folder / ".complete").exists() or not jars:
        raise SetupError(f"{what} jars are missing in {folder}: run `make setup` (or `moodlake setup`).")
    return jars


def delta_jars(cache_dir: Path) -> list[Path]:
    """The cached jars, or a SetupError telling the user to run set-up."""
    return _cached(delta_jar_dir(cache_dir), "Delta")


def s3a_jars(cache_dir: Path) -> list[Path]:
    """hadoop-aws and the AWS SDK modules for an ``s3a://`` warehouse (fetched by set-up)."""
    return _cached(s3a_jar_dir(cache_dir), "s3a (hadoop-aws)")


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SetupError(f"`{name}` was not found on PATH. {hint}")
    return path


def _fetch(folder: Path, artifacts: tuple[str, ...], groups: str, exclude: dict[str, str] | None = None) -> None:
    """Resolve ``artifacts`` with Maven and copy the jars of ``groups`` into ``folder`` (once)."""
    if (folder / ".complete").exists():
        return
    mvn = require_tool("mvn", "Install Maven (`apt-get install maven`); it fetches the runtime jars once.")
    require_tool("java", "Install a JDK 17 (`apt-get install openjdk-17-jdk-headless`).")
    deps = []
    for coordinate in artifacts:
        group, artifact, version = coordinate.split(":")
        left_out = (exclude or {}).get(coordinate)
        excl = _EXCLUDE.format(g=left_out.split(":")[0], a=left_out.split(":")[1]) if left_out else ""
        deps.append(_DEP.format(g=group, a=artifact, v=version, excl=excl))
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_POM.format(deps="\n".join(deps)))
        cmd = [
            mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
            f"-DincludeGroupIds={groups}", f"-DoutputDirectory={folder}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SetupError(f"mvn could not fetch {', '.join(artifacts)}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    (folder / ".complete").write_text("\n".join(artifacts) + "\n")


def fetch_delta_jars(cache_dir: Path) -> list[Path]:
    """Resolve Delta and its own dependencies with Maven; a no-op when already cached."""
    _fetch(delta_jar_dir(cache_dir), (DELTA_ARTIFACT,), DELTA_GROUPS)
    return delta_jars(cache_dir)


def fetch_s3a_jars(cache_dir: Path) -> list[Path]:
    """hadoop-aws (without its SDK bundle) plus the SDK's S3 modules; a no-op when cached (~12 MB)."""
    # the 600 MB SDK bundle hadoop-aws asks for is replaced by the S3 modules listed above
    _fetch(s3a_jar_dir(cache_dir), S3A_ARTIFACTS, S3A_GROUPS, exclude={S3A_ARTIFACTS[0]: "software.amazon.awssdk:bundle"})
    return s3a_jars(cache_dir)
