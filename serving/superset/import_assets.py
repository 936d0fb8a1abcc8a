"""Import Moodlake's dashboards-as-code into Superset; runs with the *Superset venv's* Python.

Usage: ``python import_assets.py ASSET_DIR TRINO_URI [USERNAME]`` with ``SUPERSET_CONFIG_PATH`` set.

Why a script of its own instead of ``superset import-dashboards``: that command only overwrites the
dashboard and keeps stale charts/datasets (superset.md G4); ``ImportAssetsCommand`` overwrites
every object, so the YAML in the repo is the truth after every ``moodlake serve``. The Trino URI
is substituted here because the port is a setting. After the import each dataset's columns are
re-read from Trino, so a column added to a Gold table shows up without editing YAML.
This file must not import moodlake: the Superset venv does not have it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def read_bundle(root: Path, trino_uri: str) -> dict[str, str]:
    """Relative path -> YAML text, as the v1 importers expect (metadata.yaml at the top)."""
    contents: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text()
        if rel.startswith("databases/"):
            doc = yaml.safe_load(text)
            doc["sqlalchemy_uri"] = trino_uri
            text = yaml.safe_dump(doc, sort_keys=False)
        contents[rel] = text
    return contents


def main(argv: list[str]) -> int:
    root, trino_uri = Path(argv[1]), argv[2]
    username = argv[3] if len(argv) > 3 else "admin"
    from flask import g
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.connectors.sqla.models import SqlaTable
        from superset.extensions import db

        g.user = security_manager.find_user(username=username)
        if g.user is None:
            print(f"Superset user {username!r} does not exist", file=sys.stderr)
            return 2
        contents = read_bundle(root, trino_uri)
        ImportAssetsCommand(contents).run()
        uuids = {yaml.safe_load(text)["uuid"] for rel, text in contents.items() if rel.startswith("datasets/")}
        synced = 0
        for dataset in db.session.query(SqlaTable).all():
            if str(dataset.uuid) in uuids:
                try:
                    dataset.fetch_metadata()
                    synced += 1
                except Exception as exc:  # a view over a missing Gold table: keep the YAML columns
                    print(f"columns of {dataset.table_name} not refreshed: {exc}", file=sys.stderr)
        db.session.commit()
        counts = {kind: sum(1 for rel in contents if rel.startswith(kind + "/"))
                  for kind in ("databases", "datasets", "charts", "dashboards")}
        print(f"imported {counts}; dataset columns refreshed from Trino: {synced}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
