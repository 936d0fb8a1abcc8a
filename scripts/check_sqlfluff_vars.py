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
    config = configparser.ConfigParser(interpolation=None)  # the macro section holds jinja's {% ... %}
    config.read(REPO / ".sqlfluff")
    context = {k: _value(v) for k, v in config["sqlfluff:templater:jinja:context"].items()}
    var_macro = config["sqlfluff:templater:jinja:macros"]["dbt_var"]
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    problems = [
        f".sqlfluff [sqlfluff:templater:jinja:context] {key} = {context.get(key)!r}, "
        f"dbt_project.yml vars.{key} = {project.get(key)!r}"
        for key in sorted(project.keys() | context.keys()) if project.get(key) != context.get(key)
    ]
    problems += [
        f".sqlfluff macro dbt_var does not map '{key}' (sqlfluff would render var('{key}') as its default)"
        for key in sorted(project) if f"'{key}': {key}" not in var_macro
    ]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
