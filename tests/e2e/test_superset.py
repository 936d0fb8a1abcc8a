"""Superset end to end in a real browser: log in, open every dashboard, every chart renders."""

from __future__ import annotations

import ipaddress
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


#: the catalog-coverage charts of the overview and what each draws when it rendered
COVERAGE_CHARTS = {"Minutes per year by match level": "canvas", "Minutes matched to a track": ".header-line",
                   "Top unmatched artists (minutes)": "table tbody tr", "Top unmatched tracks (minutes)": "table tbody tr"}


def test_coverage_charts_render(superset_stack) -> None:
    """The catalog-coverage rows of the overview draw (stacked bar on its canvas, the big number, the
    unmatched tables with rows from the sample's artist-level and unknown plays), with no error text."""
    from moodlake.serve.browser import ARGS, BAD_TEXT, CHROMIUM, _login

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (run serving/install.sh)")
    import tempfile

    from playwright.sync_api import sync_playwright

    base = superset.base_url(superset_stack)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True, args=ARGS,
                                                   viewport={"width": 1440, "height": 1000})
        try:
            page = ctx.new_page()
            _login(page, base, superset.ADMIN_USER, superset.admin_password(superset_stack))
            page.goto(f"{base}/superset/dashboard/listening-overview/?standalone=0", wait_until="networkidle")
            holders = page.locator(".dashboard-component-chart-holder")
            texts = {}
            for title, drawn in COVERAGE_CHARTS.items():
                holder = holders.filter(has_text=title).first
                holder.scroll_into_view_if_needed()  # charts below the fold load when they come into view
                holder.locator(drawn).first.wait_for(state="visible", timeout=90_000)
                texts[title] = holder.inner_text()
                assert not [bad for bad in BAD_TEXT if bad in texts[title]], (title, texts[title][:300])
        finally:
            ctx.close()
    assert "%" in texts["Minutes matched to a track"]
    assert "Unlisted Artist" in texts["Top unmatched artists (minutes)"]  # the sample's unknown plays
    assert "Rare Cut" in texts["Top unmatched tracks (minutes)"]  # catalog artists' tracks the catalog lacks


def _listening(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Addresses with a TCP socket listening on ``port``, read from the kernel (/proc/net/tcp, tcp6)."""
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.split(":")
            if state != "0A" or int(hexport, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(address)  # the kernel prints each 32-bit word in host (little-endian) order
            host_order = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(ipaddress.ip_address(host_order))
    return found


def _loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """127.0.0.1, ::1, or ::ffff:127.0.0.1 (how a JVM's dual-stack socket bound to 127.0.0.1 appears)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def test_servers_listen_on_loopback_only(superset_stack) -> None:
    """Trino and Superset: every listening socket on their ports is loopback, never 0.0.0.0 or ::."""
    for port in (superset_stack.trino_port, superset_stack.superset_port):
        addresses = _listening(port)
        assert addresses, f"nothing listens on {port}: the check would prove nothing"
        assert all(_loopback(a) for a in addresses), (port, sorted(map(str, addresses)))
