"""One real Spark + Delta session for the whole test run, in a throw-away MOODLAKE_HOME.

Tests share the session (a JVM start costs ~10 s) and the metastore; each test that writes uses
its own table names or asserts on differences, so test order does not matter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data(folder: str) -> Path:
    """A folder of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / folder
    if not path.is_dir():
        pytest.skip(f"../shared/data/{folder} is absent (acceptance data is only in the team checkout and CI)")
    return path


@pytest.fixture(scope="session")
def moodlake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("moodlake_home")
    os.environ["MOODLAKE_HOME"] = str(home)
    os.environ.pop("MOODLAKE_WAREHOUSE", None)
    return home


@pytest.fixture(scope="session")
def settings(moodlake_home: Path):
    from moodlake.settings import load_settings

    return load_settings(home=moodlake_home, shuffle_partitions=1, driver_memory="2g")


@pytest.fixture(scope="session")
def spark(settings) -> Iterator:
    from moodlake.spark import get_spark

    session = get_spark(settings)
    yield session
    session.stop()
