"""Install everything the serving stack and its browser test need, idempotently.

Debian's Chromium for the dashboard render test (never Playwright's own browser download: this
machine reaches package registries only) and docker-compose (validates docker-compose.yml offline),
Trino 476 from Maven Central, the Superset venv from PyPI, and the secret files docker-compose
reads. A second run downloads nothing. ``serving/install.sh`` runs this through
``python -m moodlake.app.serving install``, which prints the result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from moodlake.core.settings import Settings
from moodlake.serve import superset, trino
from moodlake.serve.procs import Progress

CHROMIUM = "/usr/bin/chromium"


def _missing_apt_packages() -> list[str]:
    """Debian packages the serving tests use: Chromium (render check), docker-compose (validates the file)."""
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append("chromium")
    if not shutil.which("docker-compose"):
        missing.append("docker-compose")
    return missing


@dataclass
class InstallResult:
    """Seconds per step, and the Debian packages still missing (not root: the user runs apt-get)."""

    timings: dict[str, float] = field(default_factory=dict)
    apt_missing: list[str] = field(default_factory=list)


def install_apt_packages() -> list[str]:
    """apt-get install what is missing (root only); returns what is still missing afterwards."""
    missing = _missing_apt_packages()
    if not missing:
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return missing
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    return _missing_apt_packages()


def compose_secrets(settings: Settings) -> None:
    """The secret files docker-compose.yml mounts (created 0600 once; never printed)."""
    paths = superset.superset_paths(settings)
    for path in (paths.secret_key_file, paths.admin_password_file, paths.secrets / "postgres_password"):
        superset.ensure_secret(path)


def install_all(settings: Settings, progress: Progress | None = None, browser: bool = True) -> InstallResult:
    """Every prerequisite in order (apt only with ``browser``); ``progress`` hears about downloads."""
    result = InstallResult()
    settings.ensure_dirs()

    def apt() -> None:
        result.apt_missing = install_apt_packages()

    steps = [("trino", lambda: trino.fetch_trino(settings.cache_dir, progress)),
             ("superset", lambda: superset.install_superset(settings, progress)),
             ("secrets", lambda: compose_secrets(settings))]
    if browser:
        steps.insert(0, ("apt", apt))
    for name, step in steps:
        t0 = time.monotonic()
        step()
        result.timings[name] = time.monotonic() - t0
    return result
