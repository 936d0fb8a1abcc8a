"""`moodlake serve` / `moodlake stop`: the whole serving stack in dependency order.

Order matters: Trino first (registration, dbt-trino and the Superset import all talk to it), then
table registration, then the serving views, then Superset's one-time set-up, the asset import
(overwrites every chart and dashboard from the repo's YAML) and finally its web server. Each step
is idempotent, so ``serve`` is also the way to refresh after a pipeline run; a running server is
left running.
"""

from __future__ import annotations

import logging
import time

from rich.console import Console

from moodlake.core.java import JavaNotFoundError
from moodlake.core.settings import Settings
from moodlake.serve import superset, trino
from moodlake.serve.procs import ServeError
from moodlake.serve.publish import publish

DASHBOARDS = {
    "listening-overview": "Listening overview",
    "why": "Why: what goes with your listening",
    "modes-predictions": "Modes & predictions",
    "recommendations": "Recommendations & explanations",
    "you-vs-world": "You vs the world",
    "year-in-review": "Year in review",
}


def serve(settings: Settings, console: Console) -> dict[str, str]:
    """Start (or refresh) Trino + views + Superset; returns the URLs it printed.

    A failure that the user can fix (port taken, no JDK 24+, download refused) is printed as one
    clear message with the log path, then exits 1, instead of a traceback.
    """
    try:
        return _serve(settings, console)
    except (ServeError, JavaNotFoundError) as exc:
        console.print(f"[red]moodlake serve failed:[/] {exc}")
        raise SystemExit(1) from exc


def _serve(settings: Settings, console: Console) -> dict[str, str]:
    settings.ensure_dirs()
    logging.getLogger("trino.auth").setLevel(logging.WARNING)  # "keyring module not found" is noise here
    t0 = time.monotonic()
    with console.status("Trino: fetching and starting …"):
        seconds = trino.start_trino(settings, console)
    console.print(f"[green]Trino ready[/] on {trino.base_url(settings)} ({seconds:.0f} s)")
    with console.status("Registering Delta tables and building the dbt-trino serving views …"):
        views_ok = publish(settings, console)
    if not views_ok:
        console.print("[yellow]Some serving views failed; dashboards over them will show errors.[/]")
    with console.status("Superset: installing (once) …"):
        superset.install_superset(settings, console)
    with console.status("Superset: one-time set-up …"):
        new_password = superset.initialize(settings, console)
    with console.status("Superset: importing dashboards from serving/superset/assets …"):
        superset.import_assets(settings, console)
    with console.status("Superset: starting …"):
        seconds = superset.start_superset(settings, console)
    console.print(f"[green]Superset ready[/] on {superset.base_url(settings)} ({seconds:.0f} s)")
    urls = _print_urls(settings, console, new_password)
    console.print(f"Serving stack up in {time.monotonic() - t0:.0f} s. Stop it with `moodlake stop`.")
    return urls


def _print_urls(settings: Settings, console: Console, new_password: str | None) -> dict[str, str]:
    base = superset.base_url(settings)
    urls = {
        "Trino UI": f"{trino.base_url(settings)}/ui/",
        "Trino JDBC": f"jdbc:trino://127.0.0.1:{settings.trino_port}/delta",
        "Superset": f"{base}/",
    }
    urls.update({title: f"{base}/superset/dashboard/{slug}/" for slug, title in DASHBOARDS.items()})
    console.print("[bold]Moodlake serving[/]")
    for name, url in urls.items():
        # one line each, never truncated: people copy these
        console.print(f"  {name}: {url}", soft_wrap=True, highlight=False)
    paths = superset.superset_paths(settings)
    if new_password:
        # shown once, on the run that created it (to the terminal only, never to a log file);
        # afterwards only the file's path is printed
        console.print(f"Superset login: [bold]{superset.ADMIN_USER}[/] / [bold]{new_password}[/] "
                      f"(stored in {paths.admin_password_file}, mode 0600)")
    else:
        console.print(f"Superset login: {superset.ADMIN_USER}, password in {paths.admin_password_file}")
    return urls


def stop(settings: Settings, console: Console) -> None:
    """Stop Superset and Trino of this Moodlake home (by pid file; other processes are untouched)."""
    stopped_superset = superset.stop_superset(settings)
    console.print("Superset stopped." if stopped_superset else "Superset was not running.")
    stopped_trino = trino.stop_trino(settings)
    console.print("Trino stopped." if stopped_trino else "Trino was not running.")
