#!/usr/bin/env bash
# Superset in docker-compose: the same steps as `moodlake serve` (moodlake/serve/superset.py).
set -euo pipefail
superset db upgrade
superset fab create-admin --username admin --firstname Moodlake --lastname Admin \
  --email admin@localhost --password "$(cat /run/secrets/superset_admin_password)"
superset init
python /moodlake-serving/superset/import_assets.py /moodlake-serving/superset/assets \
  "trino://moodlake@trino:8080/delta" admin
# 0.0.0.0 inside the container network only; compose publishes the port on 127.0.0.1
exec gunicorn --no-control-socket -w 2 -k gthread --threads 4 --timeout 120 -b 0.0.0.0:8088 \
  "superset.app:create_app()"
