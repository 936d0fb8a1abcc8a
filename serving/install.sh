#!/usr/bin/env bash
# Install the serving stack's prerequisites idempotently: Debian chromium (browser test),
# Trino 476 (Maven Central), the Superset venv (PyPI), compose secret files.
# Usage: serving/install.sh [--no-browser]      (run from anywhere; uses the project venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_PY="${VENV:-.venv}/bin/python"
if [ ! -x "$VENV_PY" ]; then
  echo "project venv missing: run 'make setup' first" >&2
  exit 1
fi
exec "$VENV_PY" -m moodlake.app.serving install "$@"
