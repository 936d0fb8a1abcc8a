"""Hostile and broken history files, property-based (issue 14): whatever the bytes, the loader either
refuses the file with a message that names it, or accounts for every record: loaded + quarantined
(with line, field and reason) + skipped = the records in the file. Never another exception.

These run the real parsing code that ``moodlake ingest history`` runs before anything is written
(``ingestion.history.parse_source``); landing the accepted rows in Delta is the integration lane's job.
"""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.formats import HistoryFormatError
from ingestion.history import SourceFile, parse_source

NAME = "/exports/Streaming_History_Audio_2024_0.json"
ACCOUNT_NAME = "/exports/StreamingHistory_music_0.json"

scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
#: the values that break loaders: bounds of a 64-bit long, non-finite floats, wrong types
edge_numbers = st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 2**70, -1, 0, 1.5, 3.0, float("inf"), float("-inf"),
                                float("nan"), "1000", True, None])
durations = st.one_of(edge_numbers, st.integers(min_value=0, max_value=10**8), scalars)
timestamps = st.one_of(
    st.sampled_from(["1999-12-31T23:59:59Z", "2005-12-31T23:59:59Z", "2006-01-01T00:00:00Z", "2099-01-01T00:00:00Z",
                     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),  # years 1..9999: most out of range
    st.sampled_from(["2024-02-30T10:00:00Z", "2024-01-01", "yesterday", "", "2024-06-01T12:00:00+02:00"]),
    scalars,
)
extended_records = st.fixed_dictionaries(
    {"ts": timestamps, "ms_played": durations},
    optional={
        "spotify_track_uri": st.one_of(st.just("spotify:track:4uLU6hMCjMI75M1A2tKUQC"), scalars),
        "master_metadata_track_name": scalars, "master_metadata_album_artist_name": scalars,
        "episode_name": scalars, "skipped": scalars, "shuffle": scalars, "new_field_2027": scalars,
    },
)
account_records = st.fixed_dictionaries(
    {"endTime": st.one_of(st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M")), scalars), "msPlayed": durations},
    optional={"artistName": scalars, "trackName": scalars, "episodeName": scalars},
)


def _encode(records: list, bom: bool, crlf: bool) -> bytes:
    text = json.dumps(records, indent=1, allow_nan=True)
    if crlf:
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if bom else "").encode() + text.encode()


def _check_accounted(name: str, data: bytes, records: list) -> None:
    try:
        parsed, _ = parse_source(SourceFile(name, "exports", True, data=data), user="hostile")
    except HistoryFormatError as exc:
        assert str(exc).startswith(name), exc  # a whole-file refusal names the file
        return
    assert parsed is not None
    assert len(parsed.rows) + len(parsed.rejected) + sum(parsed.skipped.values()) == len(records)
    for rejected in parsed.rejected:
        assert rejected.reason and rejected.line is not None and rejected.line >= 1
    for row in parsed.rows:  # what loads fits the Bronze types: whole 64-bit numbers, no NaN/Infinity
        value = row.get("ms_played")
        assert value is None or (isinstance(value, int) and -(2**63) <= value < 2**63 and value >= 0)
        for v in row.values():
            assert not (isinstance(v, float) and not math.isfinite(v))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(st.one_of(extended_records, scalars), max_size=12), bom=st.booleans(), crlf=st.booleans())
def test_extended_history_accounts_for_every_record(records: list, bom: bool, crlf: bool) -> None:
    _check_accounted(NAME, _encode(records, bom, crlf), records)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(st.one_of(account_records, scalars), max_size=12), bom=st.booleans(), crlf=st.booleans())
def test_account_history_accounts_for_every_record(records: list, bom: bool, crlf: bool) -> None:
    _check_accounted(ACCOUNT_NAME, _encode(records, bom, crlf), records)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(extended_records, min_size=1, max_size=6), cut=st.floats(min_value=0, max_value=1),
       junk=st.binary(max_size=40))
def test_truncated_garbled_and_non_utf8_files_are_refused_by_name(records: list, cut: float, junk: bytes) -> None:
    """A file cut anywhere, or with random bytes spliced in, is refused whole with its name, or (when
    the damage happens to leave valid JSON) every record is still accounted for."""
    data = _encode(records, bom=False, crlf=False)
    for damaged in (data[: int(len(data) * cut)], data[: int(len(data) * cut)] + junk, junk):
        try:
            parsed, _ = parse_source(SourceFile(NAME, "exports", True, data=damaged), user="hostile")
        except HistoryFormatError as exc:
            assert str(exc).startswith(NAME)
            continue
        text = damaged.decode("utf-8-sig")
        expected = json.loads(text) if text.strip() else []
        assert parsed is not None
        assert len(parsed.rows) + len(parsed.rejected) + sum(parsed.skipped.values()) == len(expected)


def test_out_of_range_and_non_finite_values_are_quarantined_with_their_field() -> None:
    records = [
        {"ts": "1999-12-31T23:00:00Z", "ms_played": 1000, "spotify_track_uri": "spotify:track:x"},
        {"ts": "2099-01-01T00:00:00Z", "ms_played": 1000, "spotify_track_uri": "spotify:track:x"},
        {"ts": "2024-01-01T00:00:00Z", "ms_played": 2**70, "spotify_track_uri": "spotify:track:x"},
        {"ts": "2024-01-01T00:00:00Z", "ms_played": float("inf"), "spotify_track_uri": "spotify:track:x"},
        {"ts": "2024-01-01T00:00:00Z", "ms_played": -5, "spotify_track_uri": "spotify:track:x"},
        {"ts": "2024-01-01T00:00:00Z", "ms_played": 1000, "spotify_track_uri": "spotify:track:x"},
    ]
    parsed, _ = parse_source(SourceFile(NAME, "exports", True, data=_encode(records, True, True)), user="hostile")
    assert parsed is not None and len(parsed.rows) == 1
    reasons = [(r.field, r.reason.split(":")[0]) for r in parsed.rejected]
    assert reasons == [("ts", "not a plausible ISO-8601 timestamp"), ("ts", "not a plausible ISO-8601 timestamp"),
                       ("ms_played", "wrong type"), ("ms_played", "wrong type"), ("ms_played", "negative duration -5")]
    assert "does not fit a 64-bit integer" in parsed.rejected[2].reason


# ---- the catalog CSV loader (ingestion.catalog), same promise -------------------------------------------

CSV_HEADER = ["track_id", "track_name", "artist_name", "popularity", "danceability", "tempo", "duration_ms"]
cells = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "-1", "0", "0.5", "101", "1.5", "abc", "spotify:track:x",
                     "4uLU6hMCjMI75M1A2tKUQC", "spotify:track:4uLU6hMCjMI75M1A2tKUQC", " ", "\u00e9", "a,b", '"q"']),
    st.text(max_size=12),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=len(CSV_HEADER), max_size=len(CSV_HEADER)), max_size=10),
       bom=st.booleans(), crlf=st.booleans())
def test_catalog_csv_accounts_for_every_row(tmp_path_factory, rows: list[list[str]], bom: bool, crlf: bool) -> None:
    import csv
    import io

    from ingestion.catalog import parse_catalog
    from moodlake.core.errors import MoodlakeError

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if crlf else "\n").writerows([CSV_HEADER, *rows])
    path = tmp_path_factory.mktemp("csv") / "hostile_catalog.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode())
    try:
        parsed = parse_catalog(path, name="hostile")
    except (MoodlakeError, ValueError) as exc:
        assert "hostile_catalog.csv" in str(exc), exc
        return
    # the records the file holds by CSV's own rules (a bare CR in an unquoted cell is a line break there)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = [r for r in csv.reader(handle)][1:]
    assert len(parsed.rows) + len(parsed.rejected) + sum(parsed.skipped.values()) == len([r for r in records if r])
    for rejected in parsed.rejected:
        assert rejected.reason and rejected.line is not None
    for row in parsed.rows:
        assert row["track_id"] and len(row["track_id"]) == 22
        for key in ("danceability", "tempo"):
            assert row.get(key) is None or math.isfinite(row[key])
