"""The unit lane: no JVM, no servers. A test here that asks for Spark is in the wrong lane."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    pytest.fail("tests/unit must not start Spark: move this test to tests/integration")
