"""Literals and identifiers for SQL that Python code builds, rendered by sqlglot, never escaped by hand.

Why: the values we splice into SQL come from files and users (listener ids, folder names, table
locations, recommendation contexts), and the two engines escape differently: Spark SQL treats a
backslash as an escape character inside ``'...'`` (so ``\\'`` ends nothing), Trino follows standard
SQL (only ``''``). A hand-written ``.replace("'", "''")`` is right for one and wrong for the other,
and easy to forget. sqlglot's generator knows each dialect's rules, so every literal and identifier
goes through it.

Prefer not building SQL at all: the DataFrame API (``F.col(c) == F.lit(v)``) and Delta's Python API
(``DeltaTable.forName``) take values and names as data. These helpers are for the statements that
have no such API (``create schema ... location``, Trino procedure calls, ``show create table``).
"""

from __future__ import annotations

import math
from typing import Literal

from sqlglot import exp

Dialect = Literal["spark", "trino"]
Scalar = str | int | float | bool | None


def literal(value: Scalar, dialect: Dialect = "spark") -> str:
    """``value`` as a SQL literal: a quoted string, a number, TRUE/FALSE or NULL.

    >>> literal("it's")
    "'it\\\\'s'"
    >>> literal("it's", dialect="trino")
    "'it''s'"
    """
    if value is None or isinstance(value, bool):
        return exp.convert(value).sql(dialect=dialect)
    if isinstance(value, str):
        return exp.Literal.string(value).sql(dialect=dialect)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"no SQL literal for {value!r}")
        return exp.Literal.number(value).sql(dialect=dialect)
    raise TypeError(f"no SQL literal for {type(value).__name__} {value!r}")


def identifier(name: str, dialect: Dialect = "spark") -> str:
    """One name, always quoted (```a``b``` in Spark, ``"a""b"`` in Trino), so a name with dots,
    spaces, quotes or a keyword (``select``) stays one identifier."""
    if not name:
        raise ValueError("an SQL identifier cannot be empty")
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def table(*parts: str, dialect: Dialect = "spark") -> str:
    """A qualified name from its parts, each quoted on its own: ``table("gold", "fct_plays")`` is
    ```gold`.`fct_plays``` (Spark) and ``table("delta", "gold", "x", dialect="trino")`` is
    ``"delta"."gold"."x"``. Pass the parts, not a dotted string: a dot inside a part is kept."""
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"a table name has 1 to 3 parts (catalog, schema, table), got {len(parts)}")
    return ".".join(identifier(part, dialect) for part in parts)
