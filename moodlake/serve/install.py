"""Install everything the serving stack and its browser test need, idempotently.

``python -m moodlake.serve.install`` (what ``serving/install.sh``, ``make serve`` and CI call):
Debian's Chromium for the dashboard render test (never Playwright's own browser download: this
machine reaches package registries only) and docker-compose (validates docker-compose.yml offline),
Trino 476 from Maven Central, the Superset venv from PyPI, and the secret files docker-compose
reads. A second run downloads nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from rich.console import Console

from moodlake.core.settings import Settings, load_settings
from moodlake.serve import superset, trino

CHROMIUM = "/usr/bin/chromium"


def _missing_apt_packages() -> list[str]:
    """Debian packages the serving tests use: Chromium (render check), docker-compose (validates the file)."""
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append("chromium")
    if not shutil.which("docker-compose"):
        missing.append("docker-compose")
    return missing


def install_apt_packages(console: Console) -> bool:
    """apt-get install what is missing (root only; otherwise say which command to run)."""
    missing = _missing_apt_packages()
    if not missing:
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        console.print(f"[yellow]Missing for the serving tests: run `sudo apt-get install {' '.join(missing)}`.[/]")
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    return not _missing_apt_packages()


def compose_secrets(settings: Settings) -> None:
    """The secret files docker-compose.yml mounts (created 0600 once; never printed)."""
    paths = superset.superset_paths(settings)
    for path in (paths.secret_key_file, paths.admin_password_file, paths.secrets / "postgres_password"):
        superset.ensure_secret(path)


def install_all(settings: Settings, console: Console, browser: bool = True) -> dict[str, float]:
    timings: dict[str, float] = {}
    settings.ensure_dirs()
    steps = [("trino", lambda: trino.fetch_trino(settings.cache_dir, console)),
             ("superset", lambda: superset.install_superset(settings, console)),
             ("secrets", lambda: compose_secrets(settings))]
    if browser:
        steps.insert(0, ("apt", lambda: install_apt_packages(console)))
    for name, step in steps:
        t0 = time.monotonic()
        step()
        timings[name] = time.monotonic() - t0
    console.print("Serving prerequisites ready: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return timings


def main() -> int:
    install_all(load_settings(), Console(), browser="--no-browser" not in sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
