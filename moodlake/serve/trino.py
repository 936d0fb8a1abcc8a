"""Trino 476 as a local, read-only SQL server over the Delta tables that Spark writes.

Why 476 and this tarball: 476 is the newest Trino whose server is on Maven Central (477+ ship only
on GitHub, which this project cannot reach). The minimal ``trino-server-core`` tarball plus the
``trino-delta-lake`` plugin zip would be smaller, but that plugin zip is not served by the Maven
repository we can reach, so we fetch the full ``io.trino:trino-server:476:tar.gz`` once and unpack
only the server and the ``delta-lake`` plugin (about 1/4 of the archive).

Why the config looks like this: one coordinator that is also the worker, bound to 127.0.0.1, a heap
sized to share a 2-core/24 GiB box with Spark and Superset, and one ``delta`` catalog on a file
metastore with the native local file system. The local file system resolves every ``local:///x``
location *relative to* ``local.location``, so that root must contain both the warehouse and the
Trino metastore folder; :func:`lake_root` picks their common parent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from moodlake.core.java import trino_java_home
from moodlake.core.settings import Settings
from moodlake.serve.procs import Progress, ServeError, port_in_use, read_pid, report, tail, terminate, wait_for

TRINO_VERSION = "476"
TRINO_ARTIFACT = f"io.trino:trino-server:{TRINO_VERSION}:tar.gz"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
PLUGINS = ("delta-lake",)
CATALOG = "delta"
HEAP = "3G"  # ample for dashboard queries on one listener's data; Spark (4g) and Superset (~0.7g) share the box
START_TIMEOUT = 180.0
# Where clients find Trino. Always loopback natively; only docker-compose sets it (to the service
# name), since inside a container network the server is another host. Not a Settings field because
# the server itself must never bind anywhere but 127.0.0.1 on a real machine.
HOST_ENV = "MOODLAKE_TRINO_HOST"


def client_host() -> str:
    return os.environ.get(HOST_ENV, "127.0.0.1")


# ---- install ------------------------------------------------------------------------------------
def trino_dir(cache_dir: Path) -> Path:
    """The unpacked server (``bin/launcher``, ``lib/``, ``plugin/delta-lake``)."""
    return cache_dir / f"trino-{TRINO_VERSION}" / f"trino-server-{TRINO_VERSION}"


def fetch_trino(cache_dir: Path, progress: Progress | None = None) -> Path:
    """Download (Maven) and unpack Trino once; later calls only check the marker file."""
    target = trino_dir(cache_dir)
    marker = target.parent / ".complete"
    if marker.exists() and (target / "bin" / "launcher").exists():
        return target
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServeError("`mvn` was not found on PATH; install Maven (`apt-get install maven`) to fetch Trino once.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        report(progress, f"Fetching {TRINO_ARTIFACT} with Maven (≈800 MB, once) …")
        cmd = [mvn, "-q", "-B", f"{DEPENDENCY_PLUGIN}:copy", f"-Dartifact={TRINO_ARTIFACT}", f"-DoutputDirectory={tmp}"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise ServeError(f"mvn could not fetch {TRINO_ARTIFACT}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        report(progress, "Unpacking Trino (server + delta-lake plugin) …")
        unpack = Path(tmp) / "unpack"
        _extract(archives[0], unpack)
        if target.exists():
            shutil.rmtree(target)
        (unpack / target.name).rename(target)
    marker.write_text(TRINO_ARTIFACT + "\n")
    return target


def _extract(archive: Path, dest: Path) -> None:
    """Unpack everything except plugins we do not use (saves ~2 GB and a minute)."""
    keep = tuple(f"plugin/{name}/" for name in PLUGINS)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/", 1)
            rest = parts[1] if len(parts) > 1 else ""
            if rest.startswith("plugin/") and rest.count("/") >= 1 and not rest.startswith(keep) and rest != "plugin/":
                continue
            tar.extract(member, dest, filter="data")


# ---- configuration -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TrinoPaths:
    """Where one Moodlake home keeps its Trino config, state, logs and pid."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def catalog(self) -> Path:
        return self.etc / "catalog"

    @property
    def metastore(self) -> Path:
        return self.root / "metastore"

    @property
    def log_dir(self) -> Path:
        return self.root / "var" / "log"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def launcher_log(self) -> Path:
        return self.log_dir / "launcher.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "var" / "run" / "launcher.pid"


def trino_paths(settings: Settings) -> TrinoPaths:
    return TrinoPaths(settings.home.resolve() / "trino")


def warehouse_path(settings: Settings) -> Path:
    """Local warehouse folder (an ``s3a://`` warehouse is served through :func:`s3_options`)."""
    uri = settings.warehouse_uri
    if uri.startswith("file:"):
        uri = uri.removeprefix("file:")
    if "://" in uri:
        raise ServeError(f"Trino serves a local or s3a:// warehouse, not {uri!r}.")
    return Path(uri).resolve()


@dataclass(frozen=True)
class S3Options:
    """How Trino and the table scan reach an ``s3a://`` warehouse: read from the same Spark conf
    (``spark.hadoop.fs.s3a.*``) that Moodlake's Spark uses, so there is one place to configure it.
    Credentials are never copied into a file: Trino and pyarrow read the AWS environment."""

    endpoint: str | None
    region: str
    path_style: bool


def s3_options(settings: Settings) -> S3Options | None:
    if not settings.uses_s3a:
        return None
    conf = settings.spark_conf
    region = conf.get("spark.hadoop.fs.s3a.endpoint.region") or os.environ.get("AWS_REGION") or "us-east-1"
    return S3Options(endpoint=conf.get("spark.hadoop.fs.s3a.endpoint"), region=region,
                     path_style=conf.get("spark.hadoop.fs.s3a.path.style.access", "false").lower() == "true")


def lake_root(settings: Settings) -> Path:
    """Trino's ``local.location``: the common parent of a local warehouse and Trino's metastore
    (only the metastore is local when the warehouse is on S3)."""
    metastore = trino_paths(settings).metastore.resolve()
    if settings.uses_s3a:
        return metastore.parent
    return Path(os.path.commonpath([warehouse_path(settings), metastore]))


def table_location(settings: Settings, path: Path | str) -> str:
    """Where Trino finds a table: ``local:///…`` for a folder, ``s3://bucket/key`` on S3."""
    if isinstance(path, str) and path.startswith("s3a://"):
        return "s3://" + path.removeprefix("s3a://")
    return local_uri(settings, Path(path))


def local_uri(settings: Settings, path: Path) -> str:
    """``local:///relative/path`` as Trino's local file system expects (relative to lake_root)."""
    rel = path.resolve().relative_to(lake_root(settings))
    return "local:///" + rel.as_posix()


def write_config(settings: Settings) -> TrinoPaths:
    """(Re)write the whole config every start, so a changed port or warehouse always takes effect."""
    paths = trino_paths(settings)
    for folder in (paths.catalog, paths.metastore, paths.log_dir, paths.pid_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
    install = trino_dir(settings.cache_dir)
    port = settings.trino_port
    files = {
        paths.etc / "node.properties": [
            "node.environment=moodlake",
            "node.id=moodlake-local",
            f"node.data-dir={paths.root}",
            "node.internal-address=127.0.0.1",
            "node.bind-ip=127.0.0.1",
        ],
        paths.etc / "config.properties": [
            "coordinator=true",
            "node-scheduler.include-coordinator=true",
            f"http-server.http.port={port}",
            f"discovery.uri=http://127.0.0.1:{port}",
            "query.max-memory=2GB",
            "query.max-memory-per-node=1GB",
            "task.concurrency=2",
            f"plugin.dir={install / 'plugin'}",
            f"catalog.config-dir={paths.catalog}",
            "http-server.log.enabled=false",
        ],
        paths.etc / "jvm.config": [
            "-server",
            f"-Xmx{HEAP}",
            "-XX:+UseG1GC",
            "-XX:G1HeapRegionSize=32M",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-OmitStackTraceInFastThrow",
            "-XX:ReservedCodeCacheSize=256M",
            "-XX:PerMethodRecompilationCutoff=10000",
            "-XX:PerBytecodeRecompilationCutoff=10000",
            "-XX:ActiveProcessorCount=2",
            "-Djdk.attach.allowAttachSelf=true",
            "-Djdk.nio.maxCachedBufferSize=2000000",
            "-Dfile.encoding=UTF-8",
            "-XX:+EnableDynamicAgentLoading",
        ],
        paths.etc / "log.properties": ["io.trino=INFO"],
        paths.catalog / f"{CATALOG}.properties": [
            "connector.name=delta_lake",
            "hive.metastore=file",
            f"hive.metastore.catalog.dir={local_uri(settings, paths.metastore)}",
            "fs.native-local.enabled=true",
            f"local.location={lake_root(settings)}",
            "delta.register-table-procedure.enabled=true",
            # read-only serving of Spark's tables: never vacuum or write data files from Trino
            "delta.enable-non-concurrent-writes=false",
            "delta.metadata.cache-ttl=1s",
            *_s3_catalog_lines(settings),
        ],
    }
    for path, lines in files.items():
        path.write_text("\n".join(lines) + "\n")
    return paths


def _s3_catalog_lines(settings: Settings) -> list[str]:
    """Native S3 file system for an s3a:// warehouse; keys come from the AWS environment, not here."""
    options = s3_options(settings)
    if options is None:
        return []
    lines = ["fs.native-s3.enabled=true", f"s3.region={options.region}",
             f"s3.path-style-access={str(options.path_style).lower()}"]
    if options.endpoint:
        lines.append(f"s3.endpoint={options.endpoint}")
    return lines


# ---- lifecycle ---------------------------------------------------------------------------------
def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.trino_port}"


def server_info(settings: Settings) -> dict | None:
    """``/v1/info`` of whatever listens on our port, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{base_url(settings)}/v1/info", timeout=2) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def has_active_worker(settings: Settings) -> bool:
    """Whether the scheduler knows an active node: ``/v1/info`` says "not starting" a moment before the
    coordinator has registered itself as a worker, and a query in that window fails NO_NODES_AVAILABLE."""
    try:
        rows = query(settings, "select count(*) from system.runtime.nodes where state = 'active'")
    except Exception:  # not accepting queries yet (any client or server error): not ready
        return False
    return bool(rows) and rows[0][0] > 0


def is_ready(settings: Settings) -> bool:
    """Started, and a worker node is active (so the first real query can be scheduled)."""
    info = server_info(settings)
    return bool(info) and info.get("starting") is False and has_active_worker(settings)


def running_pid(settings: Settings) -> int | None:
    return read_pid(trino_paths(settings).pid_file)


def start_trino(settings: Settings, progress: Progress | None = None, timeout: float = START_TIMEOUT) -> float:
    """Start Trino in the background (idempotent) and wait until it accepts queries; returns seconds."""
    started = time.monotonic()
    if running_pid(settings) and is_ready(settings):
        return 0.0
    install = fetch_trino(settings.cache_dir, progress)
    paths = write_config(settings)
    if running_pid(settings) is None and port_in_use(settings.trino_port):
        raise ServeError(
            f"Port {settings.trino_port} on 127.0.0.1 is already in use by another program; "
            f"set MOODLAKE_TRINO_PORT to a free port (dbt's trino target follows it)."
        )
    if running_pid(settings) is None:
        java_home = trino_java_home()
        cmd = [
            str(install / "bin" / "launcher"), "start",
            f"--etc-dir={paths.etc}", f"--data-dir={paths.root}", f"--pid-file={paths.pid_file}",
            f"--server-log-file={paths.server_log}", f"--launcher-log-file={paths.launcher_log}",
            f"--jvm-dir={java_home}",
        ]
        env = {**os.environ, "JAVA_HOME": str(java_home)}
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=paths.root)
        if result.returncode != 0:
            raise ServeError(f"Trino launcher failed ({result.returncode}): {result.stdout}{result.stderr}\n"
                             f"See {paths.launcher_log} and {paths.server_log}.")
    report(progress, f"Waiting for Trino on {base_url(settings)} (log: {paths.server_log}) …")

    def ready_or_dead() -> bool:
        return is_ready(settings) or running_pid(settings) is None

    wait_for(ready_or_dead, timeout, interval=1.0)
    if not is_ready(settings):
        pid = running_pid(settings)
        if pid:
            terminate(pid)
        raise ServeError(
            f"Trino did not become ready on port {settings.trino_port} within {timeout:.0f} s "
            f"(if this home's Trino runs on another port, `moodlake stop` first). Log: {paths.server_log}\n"
            f"{tail(paths.server_log) or tail(paths.launcher_log)}"
        )
    return time.monotonic() - started


def stop_trino(settings: Settings) -> bool:
    """Stop our Trino (by its pid file); True when one was running."""
    paths = trino_paths(settings)
    pid = read_pid(paths.pid_file)
    if pid is None:
        return False
    terminate(pid, timeout=30)
    paths.pid_file.unlink(missing_ok=True)
    return True


def connect(settings: Settings, schema: str | None = None):  # -> trino.dbapi.Connection
    """A DB-API connection to our Trino's delta catalog (user ``moodlake``, no auth on loopback)."""
    import trino

    return trino.dbapi.connect(
        host=client_host(), port=settings.trino_port, user="moodlake", catalog=CATALOG, schema=schema,
        http_scheme="http", request_timeout=120,
    )


def query(settings: Settings, sql: str) -> list[list]:
    """Run one statement and fetch all rows (helpers, tests, registration)."""
    conn = connect(settings)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchall()
    finally:
        conn.close()
