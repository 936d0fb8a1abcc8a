"""Apache Superset 6.1.0 in its own venv, configured per Moodlake home, dashboards imported from YAML.

Why its own venv: Superset pins Flask/SQLAlchemy/pandas versions that clash with dbt, MLflow and
pyspark in the project venv. The pins below are the checked recipe (shared/notes/superset.md):
``rich`` and ``cachetools`` are missing from Superset's own requirements and ``flask-caching`` 2.5
breaks app start. Secrets (the Flask SECRET_KEY, the admin password) are generated once with
``secrets`` and stored 0600 under ``$MOODLAKE_HOME/secrets``; the config file only *reads* them,
so no secret is ever written to the repo or to a log.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings
from moodlake.serve.procs import Progress, ServeError, port_in_use, read_pid, report, tail, terminate, wait_for

SUPERSET_PINS = ("apache-superset==6.1.0", "rich", "cachetools", "flask-caching<2.5", "trino")
ASSETS_DIR = REPO_ROOT / "serving" / "superset" / "assets"
ADMIN_USER = "admin"
IMPORT_SCRIPT = REPO_ROOT / "serving" / "superset" / "import_assets.py"  # runs in the Superset venv


# ---- install ------------------------------------------------------------------------------------
def superset_venv(settings: Settings) -> Path:
    return settings.cache_dir / "superset-venv"


def _base_python() -> str:
    """A plain CPython 3.11 (Superset 6.1 supports 3.10-3.12); the project venv's base interpreter."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("python3.11") or shutil.which("python3")
    if not found:
        raise ServeError("No python3.11 found to create the Superset venv.")
    return found


def install_superset(settings: Settings, progress: Progress | None = None) -> Path:
    """Create the venv and pip-install the pinned Superset once (≈90 s); later calls are a file check."""
    venv = superset_venv(settings)
    marker = venv / ".moodlake-complete"
    wanted = "\n".join(SUPERSET_PINS) + "\n"
    if marker.exists() and marker.read_text() == wanted and (venv / "bin" / "superset").exists():
        return venv
    report(progress, f"Installing Superset into {venv} (≈90 s, once) …")
    if not (venv / "bin" / "python").exists():
        subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True)
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *SUPERSET_PINS],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise ServeError(f"pip could not install Superset:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    marker.write_text(wanted)
    return venv


# ---- configuration -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SupersetPaths:
    """Per-home Superset state: config, SQLite metadata, logs, pid, and the two secret files."""

    root: Path
    secrets: Path

    @property
    def config(self) -> Path:
        return self.root / "superset_config.py"

    @property
    def metadata_db(self) -> Path:
        return self.root / "superset.db"

    @property
    def log(self) -> Path:
        return self.root / "var" / "log" / "gunicorn.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "var" / "run" / "gunicorn.pid"

    @property
    def initialized(self) -> Path:
        return self.root / ".initialized"

    @property
    def secret_key_file(self) -> Path:
        return self.secrets / "superset_secret_key"

    @property
    def admin_password_file(self) -> Path:
        return self.secrets / "superset_admin_password"


def superset_paths(settings: Settings) -> SupersetPaths:
    return SupersetPaths(settings.home.resolve() / "superset", settings.secrets_dir.resolve())


def _secret_file(path: Path, nbytes: int) -> tuple[str, bool]:
    """Read a secret, or create it 0600 (created before writing, so it is never world-readable)."""
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value, True


def ensure_secret(path: Path, nbytes: int = 32) -> None:
    """Create a random secret file (0600) unless it exists."""
    _secret_file(path, nbytes)


def admin_password(settings: Settings) -> str:
    return superset_paths(settings).admin_password_file.read_text().strip()


def write_config(settings: Settings) -> SupersetPaths:
    paths = superset_paths(settings)
    for folder in (paths.root, paths.log.parent, paths.pid_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
    _secret_file(paths.secret_key_file, 42)
    paths.config.write_text(
        '"""Generated by moodlake serve; secrets are read from files, never stored here."""\n'
        "from pathlib import Path\n\n"
        f"SECRET_KEY = Path({str(paths.secret_key_file)!r}).read_text().strip()\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{paths.metadata_db}?check_same_thread=false'\n"
        f"DATA_DIR = {str(paths.root)!r}\n"
        "SCARF_ANALYTICS = False\n"
        "SQLLAB_CTAS_NO_LIMIT = True\n"
        "SUPERSET_WEBSERVER_TIMEOUT = 120\n"
        "ROW_LIMIT = 50000\n"
    )
    return paths


def _env(settings: Settings) -> dict[str, str]:
    paths = superset_paths(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK", "SPARK_", "VIRTUAL_ENV"))}
    env.update({
        "SUPERSET_CONFIG_PATH": str(paths.config),
        "SUPERSET_HOME": str(paths.root),
        "FLASK_APP": "superset",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def _superset(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    exe = superset_venv(settings) / "bin" / "superset"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=_env(settings), check=False)


def initialize(settings: Settings, progress: Progress | None = None) -> str | None:
    """db upgrade + admin user + init, once per home. Returns the admin password on that first run only."""
    paths = write_config(settings)
    if paths.initialized.exists():
        return None
    password, _ = _secret_file(paths.admin_password_file, 18)
    steps = [
        ("db upgrade", ["db", "upgrade"]),
        ("admin user", ["fab", "create-admin", "--username", ADMIN_USER, "--firstname", "Moodlake",
                        "--lastname", "Admin", "--email", "admin@localhost", "--password", password]),
        ("roles and permissions", ["init"]),
    ]
    for label, args in steps:
        report(progress, f"Superset: {label} …")
        result = _superset(settings, *args)
        if result.returncode != 0:
            raise ServeError(f"`superset {args[0]} {args[1] if len(args) > 1 else ''}` failed:\n"
                             f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    paths.initialized.write_text("ok\n")
    return password  # shown once: only the run that created the admin user gets here


def trino_uri(settings: Settings) -> str:
    return f"trino://moodlake@127.0.0.1:{settings.trino_port}/delta"


def import_assets(settings: Settings, assets: Path = ASSETS_DIR) -> str:
    """Overwrite-import every YAML asset (Trino must be up: the importer lists its catalogs).

    Returns the importer's one-line summary (what was imported) for the caller to show.
    """
    if not (assets / "metadata.yaml").exists():
        raise ServeError(f"No Superset assets in {assets} (metadata.yaml missing).")
    python = superset_venv(settings) / "bin" / "python"
    result = subprocess.run(
        [str(python), str(IMPORT_SCRIPT), str(assets), trino_uri(settings), ADMIN_USER],
        capture_output=True, text=True, env=_env(settings), check=False,
    )
    if result.returncode != 0:
        raise ServeError(f"Superset asset import failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "imported"


# ---- lifecycle ---------------------------------------------------------------------------------
def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"


def healthy(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url(settings)}/health", timeout=2) as resp:
            return resp.read().strip() == b"OK"
    except (urllib.error.URLError, OSError):
        return False


def running_pid(settings: Settings) -> int | None:
    return read_pid(superset_paths(settings).pid_file)


def start_superset(settings: Settings, progress: Progress | None = None, timeout: float = 120.0) -> float:
    """gunicorn on 127.0.0.1 (no control socket: gunicorn 27 would create ~/.gunicorn); returns seconds."""
    started = time.monotonic()
    paths = superset_paths(settings)
    if running_pid(settings) and healthy(settings):
        return 0.0
    if running_pid(settings) is None and port_in_use(settings.superset_port):
        raise ServeError(f"Port {settings.superset_port} on 127.0.0.1 is already in use by another program; "
                         f"set MOODLAKE_SUPERSET_PORT to a free port.")
    if running_pid(settings) is None:
        gunicorn = superset_venv(settings) / "bin" / "gunicorn"
        cmd = [
            str(gunicorn), "--no-control-socket", "-w", "2", "-k", "gthread", "--threads", "4",
            "--timeout", "120", "-b", f"127.0.0.1:{settings.superset_port}",
            "--error-logfile", str(paths.log),
            "superset.app:create_app()",
        ]
        with open(paths.log, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=_env(settings), cwd=paths.root, start_new_session=True)
        paths.pid_file.write_text(f"{proc.pid}\n")
    report(progress, f"Waiting for Superset on {base_url(settings)} (log: {paths.log}) …")
    wait_for(lambda: healthy(settings) or running_pid(settings) is None, timeout)
    if not healthy(settings):
        pid = running_pid(settings)
        if pid:
            terminate(pid)
        raise ServeError(f"Superset did not become healthy within {timeout:.0f} s. Log: {paths.log}\n{tail(paths.log)}")
    return time.monotonic() - started


def stop_superset(settings: Settings) -> bool:
    paths = superset_paths(settings)
    pid = read_pid(paths.pid_file)
    if pid is None:
        return False
    terminate(pid, timeout=20)
    paths.pid_file.unlink(missing_ok=True)
    return True
