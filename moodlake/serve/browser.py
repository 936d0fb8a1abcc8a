"""Render Superset dashboards in a real headless Chromium and report charts that failed.

Why a browser and not only the REST API: imported charts carry no saved query context, and most
breakage (a wrong control name, a viz that cannot draw its data) only shows when the frontend
renders. We use Debian's ``/usr/bin/chromium`` with Playwright's Python API; Playwright's own
browser download is never used (no network beyond package registries here).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
BAD_TEXT = ("Data error", "Unexpected error", "No results were returned", "An error occurred")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class DashboardCheck:
    """What one dashboard showed: chart count, charts still loading or failing, the screenshot."""

    slug: str
    charts: int = 0
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def check_dashboards(base: str, user: str, password: str, slugs: list[str], out_dir: Path,
                     timeout_s: float = 90.0) -> list[DashboardCheck]:
    """Log in once, open each dashboard, wait for every chart, screenshot it, collect problems."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            page = ctx.new_page()
            _login(page, base, user, password)
            for slug in slugs:
                results.append(_check_one(page, base, slug, out_dir, timeout_s))
        finally:
            ctx.close()
    return results


def _login(page, base: str, user: str, password: str, attempts: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Log in through the real form; retried because on a loaded machine the React login form can
    re-render (and empty the fields) after we typed into it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        page.goto(f"{base}/login/", wait_until="networkidle")
        page.wait_for_selector("input#username, input[name=username]", state="visible")
        page.wait_for_timeout(1000 * attempt)
        page.fill("input#username, input[name=username]", user)
        page.fill("input#password, input[name=password]", password)
        button = page.locator("button[type=submit], [data-test=login-button]")
        if button.count():
            button.first.click()
        else:
            page.keyboard.press("Enter")
        try:
            page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts:
                raise


def _check_one(page, base: str, slug: str, out_dir: Path, timeout_s: float) -> DashboardCheck:  # type: ignore[no-untyped-def]
    check = DashboardCheck(slug)
    page.goto(f"{base}/superset/dashboard/{slug}/?standalone=0", wait_until="networkidle")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=60_000)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        holders = page.locator(".dashboard-component-chart-holder")
        check.charts = holders.count()
        loading = page.locator(".dashboard-component-chart-holder .loading, "
                               ".dashboard-component-chart-holder [data-test=loading-indicator]").count()
        if loading == 0:
            break
        page.wait_for_timeout(1000)
    page.wait_for_timeout(2500)  # let ECharts finish its entry animation before the screenshot
    body = page.inner_text("body")
    check.problems = [text for text in BAD_TEXT if text in body]
    if check.charts == 0:
        check.problems.append("no charts on the page")
    still_loading = page.locator(".dashboard-component-chart-holder .loading").count()
    if still_loading:
        check.problems.append(f"{still_loading} charts still loading after {timeout_s:.0f} s")
    check.screenshot = out_dir / f"{slug}.png"
    page.screenshot(path=str(check.screenshot), full_page=True)
    return check
