"""`make lint`: the dbt vars that sqlfluff renders with (.sqlfluff) must equal dbt_project.yml's.

sqlfluff lints models with its jinja templater, which cannot read dbt_project.yml; its context is a
copy of the vars. This check keeps the copy honest: a var changed in one file and not the other fails.
"""

from __future__ import annotations

import ast
import configparser
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _value(text: str) -> object:
    """A .sqlfluff context value as sqlfluff sees it: a Python literal where it parses as one, else text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main() -> int:
    config = configparser.ConfigParser()
    config.read(REPO / ".sqlfluff")
    context = {k: _value(v) for k, v in config["sqlfluff:templater:jinja:context"].items()}
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    differ = sorted(k for k in project.keys() | context.keys() if project.get(k) != context.get(k))
    for key in differ:
        print(f".sqlfluff [sqlfluff:templater:jinja:context] {key} = {context.get(key)!r}, "
              f"dbt_project.yml vars.{key} = {project.get(key)!r}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
