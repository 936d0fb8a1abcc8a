"""Catalog layouts, field mapping, track-id normalisation and value rules: pure functions, no I/O, no Spark.

Our field names (``FIELDS``) are what ``--map OURS=THEIRS`` accepts; each one lands in a column of
``bronze.catalog_tracks`` (``artist_name`` in ``artists``, ``release_date`` in ``album_release_date``,
every other field in the column of its own name). A :class:`Layout` says which column of a file feeds
which Bronze column. Three layouts are recognised by their header alone; any other header loads
through :func:`resolve_layout` with a mapping (columns already named like our fields need none).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from moodlake.core.errors import MoodlakeError


class CatalogFormatError(MoodlakeError, ValueError):
    """The input cannot be read as a catalog (unknown layout, bad mapping, odd file in a folder, ...).

    Raised while reading headers, before anything is written; ``str()`` says what to do.
    """


#: The audio features, under their Spotify Web API names.
AUDIO_FEATURES = [
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
]

#: Our field name -> the bronze.catalog_tracks column it lands in.
FIELDS: dict[str, str] = {
    "track_id": "track_id",
    "track_name": "track_name",
    "artist_name": "artists",
    "album_name": "album_name",
    "release_date": "album_release_date",
    "popularity": "popularity",
    "duration_ms": "duration_ms",
    "genre": "genre",
    **{f: f for f in AUDIO_FEATURES},
}
#: Further Bronze columns a mapping may fill (the recognised layouts fill some of them).
EXTRA_FIELDS: dict[str, str] = {
    f: f for f in ("album_id", "explicit", "subgenre", "playlist_name", "playlist_id", "artist_genres")
}
ALL_FIELDS = {**FIELDS, **EXTRA_FIELDS}
REQUIRED = "track_id"
CUSTOM_LAYOUT = "custom"


@dataclass(frozen=True)
class Layout:
    """Where each Bronze column comes from: ``columns`` maps Bronze column -> the file's column."""

    name: str
    default_catalog: str | None  # catalog name when --name is not given (None: the file/folder stem)
    columns: dict[str, str]

    def missing(self, header: Iterable[str]) -> list[str]:
        have = set(header)
        return [src for src in self.columns.values() if src not in have]


_SAME = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo", "duration_ms"]

LAYOUTS = [
    Layout(
        "kaggle_tracks", "kaggle_114k",
        {
            "track_id": "track_id", "track_name": "track_name", "artists": "artists",
            "album_name": "album_name", "popularity": "popularity", "explicit": "explicit",
            "time_signature": "time_signature", "genre": "track_genre", **{c: c for c in _SAME},
        },
    ),
    Layout(
        "tidytuesday_songs", "tidytuesday",
        {
            "track_id": "track_id", "track_name": "track_name", "artists": "track_artist",
            "album_name": "track_album_name", "album_id": "track_album_id",
            "album_release_date": "track_album_release_date", "popularity": "track_popularity",
            "genre": "playlist_genre", "subgenre": "playlist_subgenre",
            "playlist_name": "playlist_name", "playlist_id": "playlist_id", **{c: c for c in _SAME},
        },
    ),
    Layout(
        "genre_pull_2024", "genre_pull_2024",
        {
            "track_id": "track_id", "track_name": "track_name", "artists": "artist_name",
            "album_name": "album_name", "album_release_date": "release_date", "popularity": "popularity",
            "explicit": "explicit", "time_signature": "time_signature", "genre": "search_genre",
            "artist_genres": "artist_genres", **{c: c for c in _SAME},
        },
    ),
]


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["track_id=id", "artist_name=Artist"]`` -> our field -> their column; a bad item is an error."""
    mapping: dict[str, str] = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            raise CatalogFormatError(f"--map {item!r}: expected OURS=THEIRS, e.g. --map track_id=id")
        if ours not in ALL_FIELDS:
            raise CatalogFormatError(f"--map {item!r}: {ours!r} is not one of our fields ({', '.join(ALL_FIELDS)})")
        if ours in mapping and mapping[ours] != theirs:
            raise CatalogFormatError(f"--map maps {ours!r} twice ({mapping[ours]!r} and {theirs!r})")
        mapping[ours] = theirs
    return mapping


def resolve_layout(header: list[str], source: str, mapping: dict[str, str] | None = None) -> Layout:
    """The layout of a file with this header: a recognised one (a mapping overrides single fields),
    else one made of the mapping plus the columns already named like our fields."""
    mapping = mapping or {}
    unknown = [theirs for theirs in mapping.values() if theirs not in header]
    if unknown:
        raise CatalogFormatError(
            f"{source}: --map names column(s) the file does not have: {', '.join(unknown)}. "
            f"The file's columns: {', '.join(header)}"
        )
    overrides = {ALL_FIELDS[ours]: theirs for ours, theirs in mapping.items()}
    for layout in LAYOUTS:
        if not layout.missing(header):
            return replace(layout, columns={**layout.columns, **overrides}) if overrides else layout
    columns = {target: ours for ours, target in ALL_FIELDS.items() if ours in header}
    columns.update(overrides)
    if REQUIRED in columns and len(columns) > 1:
        return Layout(CUSTOM_LAYOUT, None, columns)
    raise CatalogFormatError(unknown_layout_message(header, source))


def unknown_layout_message(header: list[str], source: str) -> str:
    recognised = "; ".join(f"{layout.name} ({', '.join(layout.missing(header))} missing)" for layout in LAYOUTS)
    return (
        f"{source}: unknown catalog layout. The file's columns: {', '.join(header) or '(none)'}. "
        f"Our fields: {', '.join(FIELDS)} (optional extras: {', '.join(EXTRA_FIELDS)}); track_id and at "
        f"least one more field are needed. Name the file's column for each of our fields with "
        f"--map OURS=THEIRS, e.g. --map track_id=id --map track_name=title (columns already named like "
        f"ours need no --map). Recognised layouts: {recognised}."
    )


_BASE62 = r"[0-9A-Za-z]{22}"
_ID_FORMS = [
    re.compile(rf"({_BASE62})"),
    re.compile(rf"spotify:track:({_BASE62})"),
    re.compile(rf"(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(?:embed/)?track/({_BASE62})(?:[/?#].*)?"),
]


def normalise_track_id(text: str) -> str | None:
    """The bare 22-character base62 id of a bare id, ``spotify:track:ID`` or an open.spotify.com link."""
    text = text.strip()
    for form in _ID_FORMS:
        match = form.fullmatch(text)
        if match:
            return match.group(1)
    return None


# ---- value rules: Bronze column -> (parse text, allowed closed range or None) --------------------------

UNIT_RANGE = (0.0, 1.0)


def _int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in {"true", "1", "t", "yes"}:
        return True
    if low in {"false", "0", "f", "no"}:
        return False
    raise ValueError(f"{text!r} is not a boolean")


RULES: dict[str, tuple[Callable[[str], Any], tuple[float, float] | None]] = {
    **{f: (_float, UNIT_RANGE) for f in ("danceability", "energy", "speechiness", "acousticness",
                                          "instrumentalness", "liveness", "valence")},
    "loudness": (_float, (-100.0, 10.0)),
    "tempo": (_float, (0.0, 300.0)),
    "key": (_int, (-1, 11)),
    "mode": (_int, (0, 1)),
    "popularity": (_int, (0, 100)),
    "duration_ms": (_int, (1, 24 * 3600 * 1000)),
    "time_signature": (_int, (0, 7)),
    "explicit": (_bool, None),
}


def convert_record(layout: Layout, record: dict[str, str]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """One record (their column -> text) as a Bronze row; or the first problem as (their column, reason)."""
    row: dict[str, Any] = {}
    for target, source_col in layout.columns.items():
        text = record[source_col].strip()
        if target == "track_id":
            if not text:
                return row, (source_col, "missing track id")
            track_id = normalise_track_id(text)
            if track_id is None:
                return row, (source_col, f"not a Spotify track id, spotify:track: URI or open.spotify.com link: {text!r}")
            row[target] = track_id
            continue
        if not text:
            row[target] = None
            continue
        rule = RULES.get(target)
        if rule is None:
            row[target] = text
            continue
        convert, bounds = rule
        try:
            value = convert(text)
        except ValueError as exc:
            return row, (source_col, f"wrong type: {exc}")
        if bounds and not bounds[0] <= value <= bounds[1]:
            return row, (source_col, f"{value} outside [{bounds[0]}, {bounds[1]}]")
        row[target] = value
    return row, None


def features_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """The audio features of a converted row, in ``AUDIO_FEATURES`` order (missing ones are None)."""
    return tuple(row.get(f) for f in AUDIO_FEATURES)


def feature_conflict(layout: Layout, earlier: tuple[Any, ...], now: tuple[Any, ...]) -> tuple[str, str] | None:
    """The first audio feature where two rows of one track id differ: (their column, "feature new vs old")."""
    for feature, old, new in zip(AUDIO_FEATURES, earlier, now, strict=True):
        if old != new:
            return layout.columns.get(feature, feature), f"{feature} {new!r} vs {old!r}"
    return None
