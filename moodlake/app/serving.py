"""What the serving stack shows on the terminal: `moodlake serve` / `moodlake stop`, and the two module
entry points ``python -m moodlake.app.serving install [--no-browser]`` (``serving/install.sh``) and
``python -m moodlake.app.serving publish`` (the docker-compose ``publish`` service).

The work is done by ``moodlake.serve``, which never prints: long steps report through a ``progress``
callback (printed here as plain lines above the spinner) and every step returns what it did. The
order of the steps is the stack's dependency order (see ``moodlake.serve.stack``). Failures the user
can fix (port taken, no JDK 24+, download refused) are ``ServeError``/``JavaNotFoundError``, both
``MoodlakeError``: the CLI prints them as one line and exits 1.
"""

from __future__ import annotations

import logging
import sys
import time

from rich.console import Console
from rich.markup import escape

from moodlake.app.console import make_console
from moodlake.core.errors import MoodlakeError
from moodlake.core.settings import Settings, load_settings
from moodlake.serve import superset, trino
from moodlake.serve.procs import Progress
from moodlake.serve.publish import PublishResult, publish, wait_until_reachable
from moodlake.serve.stack import service_urls, stop


def _lines(console: Console) -> Progress:
    """A progress callback that prints each message as one plain line (paths may hold ``[``)."""
    return lambda message: console.print(message, markup=False, highlight=False)


def serve_stack(settings: Settings, console: Console) -> dict[str, str]:
    """Start (or refresh) Trino + views + Superset with a spinner per step; returns the URLs it printed."""
    settings.ensure_dirs()
    logging.getLogger("trino.auth").setLevel(logging.WARNING)  # "keyring module not found" is noise here
    progress = _lines(console)
    t0 = time.monotonic()
    with console.status("Trino: fetching and starting …"):
        seconds = trino.start_trino(settings, progress)
    console.print(f"[green]Trino ready[/] on {trino.base_url(settings)} ({seconds:.0f} s)")
    with console.status("Registering Delta tables and building the dbt-trino serving views …"):
        published = publish(settings)
    print_publish(console, published)
    if not published.success:
        console.print("[yellow]Some serving views failed; dashboards over them will show errors.[/]")
    with console.status("Superset: installing (once) …"):
        superset.install_superset(settings, progress)
    with console.status("Superset: one-time set-up …"):
        new_password = superset.initialize(settings, progress)
    with console.status("Superset: importing dashboards from serving/superset/assets …"):
        summary = superset.import_assets(settings)
    console.print(f"Superset: {summary}", markup=False)
    with console.status("Superset: starting …"):
        seconds = superset.start_superset(settings, progress)
    console.print(f"[green]Superset ready[/] on {superset.base_url(settings)} ({seconds:.0f} s)")
    urls = service_urls(settings)
    print_urls(console, settings, urls, new_password)
    console.print(f"Serving stack up in {time.monotonic() - t0:.0f} s. Stop it with `moodlake stop`.")
    return urls


def print_publish(console: Console, result: PublishResult) -> None:
    """Registration counts, skipped and built serving views, and dbt-trino's error if it failed."""
    console.print(result.registration.summary)
    if result.missing:
        console.print(f"[yellow]Gold tables not built yet, their views are skipped:[/] {', '.join(result.missing)}")
    console.print(f"Serving views built: {', '.join(result.built) or 'none'}")
    if not result.success:
        console.print(f"[red]dbt-trino failed[/]: {escape(str(result.views.error or result.failed))}")


def print_urls(console: Console, settings: Settings, urls: dict[str, str], new_password: str | None) -> None:
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


def stop_stack(settings: Settings, console: Console) -> None:
    """Stop Superset and Trino of this Moodlake home and say which were running."""
    with console.status("Stopping Superset and Trino …"):
        stopped = stop(settings)
    console.print("Superset stopped." if stopped.superset else "Superset was not running.")
    console.print("Trino stopped." if stopped.trino else "Trino was not running.")


def install_prerequisites(settings: Settings, console: Console, browser: bool = True) -> int:
    """Chromium + docker-compose (apt), Trino, the Superset venv and the compose secrets; exit code."""
    from moodlake.serve.install import install_all

    result = install_all(settings, _lines(console), browser=browser)
    if result.apt_missing:
        console.print(f"[yellow]Missing for the serving tests: run `sudo apt-get install {' '.join(result.apt_missing)}`.[/]")
    console.print("Serving prerequisites ready: " + ", ".join(f"{k} {v:.0f} s" for k, v in result.timings.items()))
    return 0


def publish_when_reachable(settings: Settings, console: Console) -> int:
    """docker-compose's publish step: wait for the Trino container, register, build views; exit code."""
    if not wait_until_reachable(settings, 180):
        console.print("[red]Trino is not reachable[/]")
        return 1
    result = publish(settings)
    print_publish(console, result)
    return 0 if result.success else 1


USAGE = "usage: python -m moodlake.app.serving install [--no-browser] | publish"


def main(argv: list[str] | None = None) -> int:
    """``install [--no-browser]`` or ``publish``; our own errors print one line, not a traceback."""
    args = sys.argv[1:] if argv is None else argv
    console = make_console()
    try:
        if args[:1] == ["install"] and set(args[1:]) <= {"--no-browser"}:
            return install_prerequisites(load_settings(), console, browser="--no-browser" not in args)
        if args == ["publish"]:
            return publish_when_reachable(load_settings(), console)
    except MoodlakeError as exc:
        make_console(stderr=True).print(f"[red]{escape(str(exc))}[/red]")
        return exc.exit_code
    make_console(stderr=True).print(USAGE, markup=False)
    return 2


if __name__ == "__main__":
    sys.exit(main())
