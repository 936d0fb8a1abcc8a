"""Superset config for docker-compose: Postgres metadata, secrets from compose secret files.

Natively `moodlake serve` writes an equivalent file (SQLite metadata) under $MOODLAKE_HOME/superset.
"""

import os
from pathlib import Path


def _secret(name: str) -> str:
    return Path(f"/run/secrets/{name}").read_text().strip()


SECRET_KEY = _secret("superset_secret_key")
SQLALCHEMY_DATABASE_URI = (
    f"postgresql+psycopg2://superset:{_secret('postgres_password')}@postgres:5432/superset"
)
SCARF_ANALYTICS = False
SQLLAB_CTAS_NO_LIMIT = True
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
DATA_DIR = os.environ.get("SUPERSET_HOME", "/app/superset_home")
