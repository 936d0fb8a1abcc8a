"""Register the warehouse's Delta tables in a running Trino and build the serving views.

``python -m moodlake.serve.publish`` is the docker-compose ``publish`` step (Trino is another
container there, reached through ``MOODLAKE_TRINO_HOST``); natively ``moodlake serve`` does the
same as part of bringing the stack up.
"""

from __future__ import annotations

import sys

from rich.console import Console

from moodlake.core.settings import Settings, load_settings
from moodlake.serve.procs import wait_for
from moodlake.serve.register import register_tables
from moodlake.serve.views import build_serving_views


def publish(settings: Settings, console: Console) -> bool:
    """Registration + dbt-trino; True when every serving view built."""
    result = register_tables(settings, console=console)
    gold = [name.split(".", 1)[1] for name in result.tables if name.startswith("gold.")]
    return build_serving_views(settings, gold, console).success


def main() -> int:
    from moodlake.serve.trino import connect

    settings, console = load_settings(), Console()

    def reachable() -> bool:
        try:
            conn = connect(settings)
            conn.cursor().execute("select 1").fetchall()
            conn.close()
            return True
        except Exception:  # not up yet: connection refused, starting, no catalog
            return False

    if not wait_for(reachable, 180, interval=2):
        console.print("[red]Trino is not reachable[/]")
        return 1
    return 0 if publish(settings, console) else 1


if __name__ == "__main__":
    sys.exit(main())
