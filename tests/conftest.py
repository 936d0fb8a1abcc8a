"""One real Spark + Delta session for the whole test run, in a throw-away MOODLAKE_HOME.

Tests share the session (a JVM start costs ~10 s) and the metastore; each test that writes uses
its own table names or asserts on differences, so test order does not matter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# fixtures shared across lanes (ML frames, the serving stack); pytest_plugins is only allowed here
pytest_plugins = ["tests.support.ml_fixtures", "tests.support.serving_fixtures"]


def shared_data(folder: str) -> Path:
    """A folder of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / folder
    if not path.is_dir():
        pytest.skip(f"../shared/data/{folder} is absent (acceptance data is only in the team checkout and CI)")
    return path


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """Where browser tests save screenshots: docs/screenshots/ (committed, shown in the README), or
    $MOODLAKE_SCREENSHOTS to keep a run's pictures elsewhere."""
    path = Path(os.environ.get("MOODLAKE_SCREENSHOTS") or REPO / "docs" / "screenshots").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def moodlake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("moodlake_home")
    os.environ["MOODLAKE_HOME"] = str(home)
    os.environ.pop("MOODLAKE_WAREHOUSE", None)
    return home


@pytest.fixture(scope="session")
def settings(moodlake_home: Path):
    from moodlake.core.settings import load_settings

    return load_settings(home=moodlake_home, shuffle_partitions=1, driver_memory="2g")


@pytest.fixture(scope="session")
def spark(settings) -> Iterator:
    from moodlake.core.spark import get_spark

    session = get_spark(settings)
    yield session
    session.stop()


#: distinctive values planted in the demo run's environment and token cache; they may appear in no file
#: the run writes outside $MOODLAKE_HOME/secrets (tests/e2e/test_run_e2e.py)
PLANTED_SECRETS = {
    "client_id": "planted-client-id-5c1e9a", "client_secret": "planted-client-secret-9d4b27",
    "access_token": "planted-access-token-1f8e63", "refresh_token": "planted-refresh-token-7a2c5d",
}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`moodlake run` on the demo data, once per test session, in its own process and MOODLAKE_HOME.

    End-to-end tests (status, summary.json, report, serving) read its outputs. It runs as a
    subprocess, exactly as `make run` does, so it has its own JVM and metastore.
    """
    import json
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("demo_run_home")
    env = {**os.environ, "MOODLAKE_HOME": str(home), "MOODLAKE_DRIVER_MEMORY": "3g",
           # planted secrets: test_run_e2e greps every file the run writes for them
           "MOODLAKE_SPOTIFY_CLIENT_ID": PLANTED_SECRETS["client_id"],
           "MOODLAKE_SPOTIFY_CLIENT_SECRET": PLANTED_SECRETS["client_secret"]}
    env.pop("MOODLAKE_WAREHOUSE", None)
    secrets = home / "secrets"
    secrets.mkdir(mode=0o700)
    token = secrets / "spotify-token-demo-ava.json"
    token.write_text(json.dumps({"access_token": PLANTED_SECRETS["access_token"], "token_type": "Bearer",
                                 "refresh_token": PLANTED_SECRETS["refresh_token"], "expires_at": 1}))
    token.chmod(0o600)
    proc = subprocess.run(
        [sys.executable, "-m", "moodlake", "run"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=3600, check=False,
    )
    (home / "run1.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"moodlake run failed (log {home / 'run1.log'}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    summary = json.loads((home / "reports" / "latest" / "summary.json").read_text())
    return {"home": home, "env": env, "summary": summary, "stdout": proc.stdout}


def moodlake(env: dict[str, str], *args: str, timeout: float = 1200) -> str:
    """Run the real CLI in a subprocess, as a user would with these environment settings; fail loudly."""
    proc = subprocess.run([sys.executable, "-m", "moodlake", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"moodlake {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout
