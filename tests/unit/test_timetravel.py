"""Time-travel helpers that need no engine: which version was current at a time, the rebuild request."""

from __future__ import annotations

import pytest

from moodlake.core.settings import load_settings
from moodlake.core.timetravel import (
    RestoreResult,
    TableVersion,
    TimeTravelError,
    clear_rebuild,
    rebuild_reasons,
    request_rebuild,
    version_at,
)

HISTORY = [
    TableVersion(2, "2026-12-01 10:00:05", "WRITE", 10, ""),
    TableVersion(1, "2026-12-01 09:00:00", "MERGE", 5, ""),
    TableVersion(0, "2026-11-30 08:00:00", "CREATE TABLE", None, ""),
]


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2026-11-30 08:00:00", 0), ("2026-12-01", 0), ("2026-12-01T09:30", 1), ("2026-12-01 10:00:05", 2),
    ("2027-01-01", 2), ("2026-12-01T09:30:00+00:00", 1), ("2026-12-01T10:30:00+05:30", 0),
])
def test_version_at_is_the_newest_commit_at_or_before_the_time(as_of: str, expected: int) -> None:
    assert version_at(HISTORY, as_of, "bronze.t") == expected


def test_version_at_refuses_times_before_the_table_and_non_times() -> None:
    with pytest.raises(TimeTravelError, match="did not exist at 2026-11-01; its first version is from 2026-11-30 08:00:00"):
        version_at(HISTORY, "2026-11-01", "bronze.t")
    with pytest.raises(TimeTravelError, match="is not a date or time"):
        version_at(HISTORY, "yesterday", "bronze.t")


def test_rebuild_requests_accumulate_until_cleared(tmp_path) -> None:
    settings = load_settings(home=tmp_path)
    assert rebuild_reasons(settings) == []
    request_rebuild(settings, RestoreResult("bronze.a", 3, 5, 1, 2))
    request_rebuild(settings, RestoreResult("bronze.b", 0, 2, 1, 0))
    assert [(r["table"], r["restored_to"]) for r in rebuild_reasons(settings)] == [("bronze.a", 3), ("bronze.b", 0)]
    clear_rebuild(settings)
    assert rebuild_reasons(settings) == []
