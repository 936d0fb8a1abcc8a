"""Session fixtures for the serving stack: sample Gold tables, a real Trino, a real Superset.

They reuse the session ``settings``/``spark`` fixtures of tests/conftest.py (temp MOODLAKE_HOME)
and run servers on free loopback ports, so a developer's own stack on 8080/8088 is never touched.
Every server started here is stopped at the end of the session, by pid.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from moodlake.serve.procs import free_port


@pytest.fixture(scope="session")
def serving_settings(settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A Moodlake home of its own (warehouse, Trino, Superset) on free ports.

    Separate from the shared test home so that the sample Gold tables never collide with tables
    the pipeline's tests build; Spark is still the one session of the test run.
    """
    from moodlake.core.settings import load_settings

    home = tmp_path_factory.mktemp("serving_home")
    return load_settings(home=home, warehouse=None, trino_port=free_port(), superset_port=free_port(),
                         cache_dir=settings.cache_dir)


@pytest.fixture(scope="session")
def gold_dir(serving_settings) -> Path:  # type: ignore[no-untyped-def]
    return Path(serving_settings.warehouse_uri) / "gold.db"


@pytest.fixture(scope="session")
def sample_gold(spark, serving_settings) -> list[str]:  # type: ignore[no-untyped-def]
    """All Gold tables the serving views and dashboards read, written with Spark as Delta folders."""
    from tests.support.sample_gold import write_sample_gold

    return write_sample_gold(spark, Path(serving_settings.warehouse_uri))


@pytest.fixture(scope="session")
def trino_server(serving_settings, sample_gold) -> Iterator:  # type: ignore[no-untyped-def]
    """A real Trino 476 (fetched once into the cache) over the test warehouse."""
    from moodlake.serve import trino

    try:
        seconds = trino.start_trino(serving_settings)
    except trino.ServeError as exc:
        pytest.fail(f"Trino could not start: {exc}")
    print(f"Trino started in {seconds:.1f} s on port {serving_settings.trino_port}")
    yield serving_settings
    trino.stop_trino(serving_settings)


@pytest.fixture(scope="session")
def registered(trino_server):  # type: ignore[no-untyped-def]
    from moodlake.serve.register import register_tables

    return register_tables(trino_server)


@pytest.fixture(scope="session")
def serving_views(trino_server, registered):  # type: ignore[no-untyped-def]
    from moodlake.serve.views import build_serving_views

    gold = [name.split(".", 1)[1] for name in registered.tables if name.startswith("gold.")]
    return build_serving_views(trino_server, gold)


@pytest.fixture(scope="session")
def superset_stack(trino_server, serving_views) -> Iterator:  # type: ignore[no-untyped-def]
    """Superset installed (once, cached venv), initialised in the temp home, assets imported, running."""
    from moodlake.serve import superset

    superset.install_superset(trino_server)
    superset.initialize(trino_server)
    superset.import_assets(trino_server)
    superset.start_superset(trino_server)
    yield trino_server
    superset.stop_superset(trino_server)
