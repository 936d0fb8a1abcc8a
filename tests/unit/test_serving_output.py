"""The serving stack's terminal output lives in moodlake.app.serving; moodlake.serve only returns data.

No servers here: the printing functions get results built by hand, and the two module entry points
(serving/install.sh, docker-compose's publish service) are checked to point at real commands.
"""

from __future__ import annotations

import re

import pytest
import yaml

from moodlake.app import serving
from moodlake.app.console import recording_console
from moodlake.core.dbt import DbtOutcome
from moodlake.core.paths import REPO_ROOT
from moodlake.serve.publish import PublishResult
from moodlake.serve.register import RegistrationResult, _ddl_location
from moodlake.serve.stack import DASHBOARDS, service_urls


def _console():
    return recording_console()


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    from moodlake.core.settings import load_settings

    return load_settings(home=tmp_path, warehouse=None, trino_port=18080, superset_port=18088)


def test_urls_cover_trino_superset_and_every_dashboard(settings) -> None:  # type: ignore[no-untyped-def]
    urls = service_urls(settings)
    assert urls["Trino UI"] == "http://127.0.0.1:18080/ui/"
    assert urls["Trino JDBC"] == "jdbc:trino://127.0.0.1:18080/delta"
    for slug, title in DASHBOARDS.items():
        assert urls[title] == f"http://127.0.0.1:18088/superset/dashboard/{slug}/"


def test_new_password_is_shown_once_then_only_its_file(settings) -> None:  # type: ignore[no-untyped-def]
    from moodlake.serve import superset

    file = superset.superset_paths(settings).admin_password_file
    first = _console()
    serving.print_urls(first, settings, service_urls(settings), "s3cret-Pw_1")
    text = first.export_text()
    assert f"Superset login: admin / s3cret-Pw_1 (stored in {file}, mode 0600)" in text
    again = _console()
    serving.print_urls(again, settings, service_urls(settings), None)
    text = again.export_text()
    assert "s3cret" not in text
    assert f"Superset login: admin, password in {file}" in text
    assert "  Trino UI: http://127.0.0.1:18080/ui/" in text


def test_publish_output(settings) -> None:  # type: ignore[no-untyped-def]
    registration = RegistrationResult(registered=["gold.fct_plays"], unchanged=["gold.dim_tracks"])
    views = DbtOutcome(success=False, statuses={"model.moodlake.plays": "success", "model.moodlake.bad": "error"},
                       error="boom [/not markup]")
    console = _console()
    serving.print_publish(console, PublishResult(registration, views, missing=["mart_genre_gap"]))
    lines = console.export_text().splitlines()
    assert lines == [
        "Trino tables: 1 registered, 0 re-pointed, 1 unchanged, 0 unregistered",
        "Gold tables not built yet, their views are skipped: mart_genre_gap",
        "Serving views built: plays",
        "dbt-trino failed: boom [/not markup]",
    ]


def test_progress_lines_are_plain_text() -> None:
    console = _console()
    serving._lines(console)("Waiting for Trino (log: /tmp/[x]/server.log) …")
    assert console.export_text() == "Waiting for Trino (log: /tmp/[x]/server.log) …\n"


def test_entry_point_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert serving.main(["nonsense"]) == 2
    assert serving.main(["install", "--typo"]) == 2


def test_install_script_and_compose_call_the_entry_point() -> None:
    script = (REPO_ROOT / "serving" / "install.sh").read_text()
    assert re.search(r"-m moodlake\.app\.serving install\b", script)
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["publish"]["command"] == ["python", "-m", "moodlake.app.serving", "publish"]


@pytest.mark.parametrize(("ddl", "location"), [
    ("CREATE TABLE delta.gold.x (\n   a varchar,\n   b array(row(c double))\n)\nWITH (\n"
     "   location = 'local:///warehouse/gold.db/x'\n)", "local:///warehouse/gold.db/x"),
    ("CREATE TABLE delta.gold.x (a varchar) WITH (location = 's3://b/o''brien.db/x')", "s3://b/o'brien.db/x"),
    ("CREATE TABLE delta.gold.x (a varchar)", None),
])
def test_registered_location_is_read_from_the_ddl(ddl: str, location: str | None) -> None:
    assert _ddl_location(ddl) == location
