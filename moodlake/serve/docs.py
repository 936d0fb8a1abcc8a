"""`moodlake docs` / `make docs`: build the dbt docs site (lineage, descriptions, columns) and serve it.

`dbt docs generate` runs in our own Spark session (it reads the catalog of the Delta tables), writes
index.html, manifest.json and catalog.json into `settings.dbt_target_dir`, and that folder is served
by the standard-library HTTP server on loopback only: the site may describe private tables.
"""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from moodlake.core.errors import StageFailed
from moodlake.core.settings import Settings

SITE_FILES = ("index.html", "manifest.json", "catalog.json")


def generate_docs(settings: Settings) -> Path:
    """Run `dbt docs generate`; raise with dbt's error when it fails or the site is incomplete."""
    from moodlake.core.dbt import invoke_dbt
    from moodlake.core.spark import get_spark

    get_spark(settings)
    outcome = invoke_dbt(settings, ["docs", "generate"])
    if not outcome.success:
        raise StageFailed(f"dbt docs generate failed: {outcome.error or 'see dbt log'}")
    target = settings.dbt_target_dir
    missing = [name for name in SITE_FILES if not (target / name).is_file()]
    if missing:
        raise StageFailed(f"dbt docs site incomplete in {target}: missing {', '.join(missing)}")
    return target


def make_server(folder: Path, port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """An HTTP server for the site folder, bound to loopback (port 0 picks a free port)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)
