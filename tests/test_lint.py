"""sqlfluff (sparksql, jinja templater with the dbt vars) and ruff are clean; part of `make test`."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_sqlfluff_vars_match_dbt_project():
    config = configparser.ConfigParser()
    config.read(REPO / ".sqlfluff")
    context = dict(config["sqlfluff:templater:jinja:context"])
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    assert {k: str(v) for k, v in project.items()} == context


def test_sqlfluff_clean():
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "snapshots", "analyses", "--disable-progress-bar"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_ruff_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:]
