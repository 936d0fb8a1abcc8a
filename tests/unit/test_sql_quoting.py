"""moodlake.core.sql: literals and identifiers survive quotes, backslashes, unicode, dots and backticks.

No JVM and no Trino here: each rendered literal or name is parsed back with sqlglot in the same
dialect and must give the original value. The engines themselves are checked in the integration
lane (registration in Trino, schemas in Spark). hypothesis is not installed in the venv, so the
cases are listed.
"""

from __future__ import annotations

import math

import pytest
import sqlglot
from sqlglot import exp

from moodlake.core.sql import identifier, literal, table

DIALECTS = ("spark", "trino")
NASTY = [
    "",
    "plain",
    "it's",
    "''",
    "'; drop table gold.fct_plays; --",
    "back\\slash",
    "trailing backslash\\",
    "\\'",
    "\\\\'",
    "a\nnew line",
    "tab\there",
    "unicode: Ünïcödé 音楽 😀",
    "double \" quote",
    "back`tick",
    "semi; colon -- comment /* c */",
    "local:///warehouse/gold.db/fct_plays",
    "s3a://bucket/with space/o'brien.db",
    "${var} {{ jinja }} %s ?",
]
NAMES = ["fct_plays", "gold.db", "with.dots", "back`tick", "double\"quote", "select", "Mixed Case", "ünï", "it's"]


def _parse_literal(sql: str, dialect: str) -> exp.Expression:
    return sqlglot.parse_one(f"select {sql}", read=dialect).expressions[0]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("value", NASTY)
def test_string_literal_round_trips(value: str, dialect: str) -> None:
    sql = literal(value, dialect=dialect)
    parsed = _parse_literal(sql, dialect)
    assert isinstance(parsed, exp.Literal) and parsed.is_string, sql
    assert parsed.this == value, sql


@pytest.mark.parametrize("value", NASTY)
def test_string_literal_is_one_token(value: str) -> None:
    """Nothing after the literal: an injected quote cannot end it and start more SQL."""
    for dialect in DIALECTS:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(literal(value, dialect=dialect))
        assert len(tokens) == 1, (dialect, tokens)


def test_dialects_escape_differently() -> None:
    """Why the dialect matters: Spark escapes with a backslash, Trino doubles the quote."""
    assert literal("it's", dialect="trino") == "'it''s'"
    assert literal("it's", dialect="spark") == "'it\\'s'"
    assert literal("a\\b", dialect="trino") == "'a\\b'"
    assert literal("a\\b", dialect="spark") == "'a\\\\b'"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("value", [0, 7, -3, 10**20, 2.5, 1e-7, -0.125])
def test_number_literal(value: float, dialect: str) -> None:
    parsed = _parse_literal(literal(value, dialect=dialect), dialect)
    if isinstance(parsed, exp.Neg):
        parsed = parsed.this
        value = -value
    assert isinstance(parsed, exp.Literal) and not parsed.is_string
    assert float(parsed.this) == value


@pytest.mark.parametrize("dialect", DIALECTS)
def test_booleans_and_null(dialect: str) -> None:
    assert literal(True, dialect=dialect) == "TRUE"
    assert literal(False, dialect=dialect) == "FALSE"
    assert literal(None, dialect=dialect) == "NULL"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        literal(value)


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError):
        literal(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        literal(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_identifier_round_trips_as_one_name(name: str, dialect: str) -> None:
    sql = identifier(name, dialect=dialect)
    parsed = sqlglot.parse_one(f"select {sql} from t", read=dialect).expressions[0]
    assert isinstance(parsed, exp.Column) and parsed.name == name and not parsed.table, sql


def test_identifiers_are_always_quoted() -> None:
    assert identifier("gold") == "`gold`"
    assert identifier("gold", dialect="trino") == '"gold"'
    assert identifier("a`b") == "`a``b`"
    assert identifier('a"b', dialect="trino") == '"a""b"'


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_table_keeps_each_part(name: str, dialect: str) -> None:
    sql = table("delta", "gold", name, dialect=dialect)
    parsed = sqlglot.parse_one(f"select * from {sql}", read=dialect).find(exp.Table)
    assert parsed is not None
    assert (parsed.catalog, parsed.db, parsed.name) == ("delta", "gold", name), sql


def test_table_forms() -> None:
    assert table("gold", "fct_plays") == "`gold`.`fct_plays`"
    assert table("delta", "gold", "fct_plays", dialect="trino") == '"delta"."gold"."fct_plays"'
    assert table("with.dot") == "`with.dot`"


@pytest.mark.parametrize("parts", [(), ("a", "b", "c", "d")])
def test_table_part_count(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        table(*parts)


def test_empty_identifier_is_refused() -> None:
    with pytest.raises(ValueError):
        identifier("")
