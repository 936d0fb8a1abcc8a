"""Insight sentences and the self-contained HTML report, on Gold built from the fixture histories;
the report is opened in Debian's Chromium (Playwright) and must show its charts."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from moodlake.app.console import recording_console
from moodlake.app.pipeline import RunState, insights, report
from tests.support.marts import LISTENERS, build_gold

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "contracts" / "summary.schema.json"
LOCAL_SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "contracts" / "summary.schema.json"
CHROMIUM = "/usr/bin/chromium"
NUMBER = re.compile(r"\d")


@pytest.fixture(scope="module")
def ctx(spark, settings):
    build_gold(spark, settings)
    context = RunState(settings=settings, spark=spark, console=recording_console(), demo=True)
    context.summary = {"started_at": datetime.now(UTC).isoformat(), "demo": True, "stages": {}, "tables": {}}
    info = insights(context)
    context.summary["stages"]["insights"] = {"seconds": 1.0, **info}
    context.summary["insights"]["predictive"].append("DEMO · fixture-lena: a later stage may append here (test).")
    return context


def test_insights_have_numbers_per_listener_and_demo_label(ctx):
    insights = ctx.summary["insights"]
    assert set(insights) == {"descriptive", "diagnostic", "predictive", "prescriptive", "cognitive"}
    for kind in ("descriptive", "diagnostic"):
        for user in LISTENERS:
            mine = [s for s in insights[kind] if s.startswith(f"DEMO · {user}: ")]
            assert len(mine) >= 2, (kind, user, insights[kind])
            assert all(NUMBER.search(s.split(": ", 1)[1]) for s in mine)
    assert any("sessions are high-energy" in s for s in insights["descriptive"])
    assert any("95% CI" in s for s in insights["diagnostic"])


def test_summary_validates_against_the_shared_contract(ctx):
    schema_path = SCHEMA if SCHEMA.is_file() else LOCAL_SCHEMA
    if not schema_path.is_file():
        pytest.skip("summary.schema.json not available")
    summary = {**ctx.summary, "finished_at": datetime.now(UTC).isoformat(), "tables": {"gold.fct_plays": 1}}
    jsonschema.validate(json.loads(json.dumps(summary, default=str)), json.loads(schema_path.read_text()))
    broken = {**summary, "insights": {"descriptive": [1, 2]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(schema_path.read_text()))


def test_report_is_self_contained_and_renders_charts_in_chromium(ctx, tmp_path, screenshots_dir):
    info = report(ctx)
    path = Path(info["path"])
    assert path == ctx.settings.reports_dir / "latest" / "report.html"
    page_html = path.read_text()
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page_html), "report must not load external URLs"
    assert "DEMO DATA" in page_html and "Reflection, not diagnosis" in page_html
    # one section of five charts per listener in Gold (other tests of this session may add listeners)
    listeners = {r[0] for r in ctx.spark.sql("select distinct user_id from gold.mart_daypart_mood").collect()}
    assert set(LISTENERS) <= listeners
    assert page_html.count("data:image/png;base64,") == 5 * len(listeners)
    assert "a later stage may append here" in page_html
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('img, svg'))"
            ".filter(e => e.getBoundingClientRect().width > 100 && e.getBoundingClientRect().height > 50"
            " && (e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0))).length"
        )
        banner = page.locator("#demo-banner").is_visible()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert drawn == 5 * len(listeners)
    assert banner
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert shot.stat().st_size > 50_000
    shutil.copyfile(shot, screenshots_dir / "report.png")
