"""Superset end to end in a real browser: log in, open every dashboard, every chart renders."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from moodlake.serve import superset
from moodlake.serve.stack import DASHBOARDS

pytestmark = pytest.mark.serving


def test_secrets_are_private_and_not_in_config(superset_stack) -> None:
    paths = superset.superset_paths(superset_stack)
    for secret in (paths.secret_key_file, paths.admin_password_file):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert secret.read_text().strip() not in paths.config.read_text()


def test_every_dashboard_renders(superset_stack, screenshots_dir: Path) -> None:
    from moodlake.serve.browser import CHROMIUM, check_dashboards

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (run serving/install.sh)")
    results = check_dashboards(
        superset.base_url(superset_stack), superset.ADMIN_USER, superset.admin_password(superset_stack),
        list(DASHBOARDS), screenshots_dir,
    )
    problems = {r.slug: r.problems for r in results if r.problems}
    assert not problems, problems
    assert all(r.charts >= 2 for r in results)
    assert all(Path(r.screenshot).stat().st_size > 20_000 for r in results if r.screenshot)
