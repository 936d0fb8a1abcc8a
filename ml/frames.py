"""pandas frames shaped like the Gold contract (docs/CONTRACTS.md), from Gold or straight from files.

The models take pandas frames with Gold column names. In the product they come from Gold through
the shared Spark session (:func:`read_plays`, :func:`read_tracks`). The benchmark on a real export
and the fast unit tests build the same columns from an export's JSON files and the catalog CSV
(:func:`plays_from_export`, :func:`catalog_frame`), so every path runs the same model code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ml.features import FEATURES
from ml.mood_rules import mood_quadrant

#: Columns of gold.fct_plays the ML stage reads (a subset of the contract).
PLAY_COLUMNS: tuple[str, ...] = (
    "play_id", "user_id", "track_id", "played_at", "ms_played", "is_skipped", "is_short_play",
    "has_audio_features", "local_hour", "local_weekday", "daypart", "session_id", "genre",
    *FEATURES, "popularity",
)

#: Columns of gold.dim_tracks the ML stage reads.
TRACK_COLUMNS: tuple[str, ...] = (
    "track_id", "track_name", "primary_artist_name", "primary_genre", "popularity", *FEATURES,
)

#: Catalog tracks a model can score: an id and every input present (Spark SQL condition).
SCORABLE_TRACKS = " and ".join(f"{c} is not null" for c in ("track_id", *FEATURES, "popularity"))

# catalog CSV column -> Gold column (TidyTuesday / Kaggle layout)
_CATALOG_RENAME = {"track_artist": "primary_artist_name", "track_popularity": "popularity"}


def daypart(hour: pd.Series) -> pd.Series:
    """night 0-5, morning 6-11, afternoon 12-17, evening 18-23 (local hours), like the dbt seed."""
    return pd.Series(
        np.select([hour < 6, hour < 12, hour < 18], ["night", "morning", "afternoon"], default="evening"),
        index=hour.index,
    )


def catalog_frame(path: Path) -> pd.DataFrame:
    """dim_tracks-shaped frame from a catalog CSV: one row per track, primary genre = most frequent.

    Ties between genres go to the alphabetically first, as in ``int_tracks_deduplicated``.
    """
    raw = pd.read_csv(path, dtype={"track_id": str})
    raw = raw.rename(columns=_CATALOG_RENAME)
    counts = raw.groupby(["track_id", "playlist_genre"]).size().rename("n").reset_index()
    counts = counts.sort_values(["track_id", "n", "playlist_genre"], ascending=[True, False, True])
    primary = counts.drop_duplicates("track_id").set_index("track_id")["playlist_genre"].rename("primary_genre")
    tracks = raw.drop_duplicates("track_id").set_index("track_id")
    tracks = tracks.join(primary).reset_index()
    return tracks.loc[:, list(TRACK_COLUMNS)].reset_index(drop=True)


def _normalise(text: pd.Series) -> pd.Series:
    return text.fillna("").str.lower().map(lambda s: re.sub(r"[^0-9a-z]+", " ", s).strip())


def read_export_records(paths: Iterable[Path]) -> pd.DataFrame:
    """Music records of Extended Streaming History files (``Streaming_History_Audio_*.json``)."""
    records: list[dict[str, Any]] = []
    for path in sorted(paths):
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON array of extended-history records")
        records.extend(r for r in rows if r.get("spotify_track_uri"))
    if not records:
        raise ValueError("no music records (spotify_track_uri set) in the given export files")
    return pd.DataFrame.from_records(records)


def plays_from_export(
    paths: Iterable[Path],
    tracks: pd.DataFrame,
    user_id: str,
    timezone: str,
    session_gap_minutes: int = 20,
) -> pd.DataFrame:
    """fct_plays-shaped frame of MATCHED music plays from extended-history export files.

    Matching mirrors ``int_plays_matched``: first the catalog track id from the URI, then normalised
    (title, artist). Exact duplicates (uri, ts, ms_played) are dropped like the Silver layer does.
    """
    raw = read_export_records(paths).drop_duplicates(["spotify_track_uri", "ts", "ms_played"])
    frame = pd.DataFrame({
        "user_id": user_id,
        "source_track_id": raw["spotify_track_uri"].str.rsplit(":", n=1).str[-1],
        "track_name": raw["master_metadata_track_name"],
        "artist_name": raw["master_metadata_album_artist_name"],
        "ms_played": raw["ms_played"].astype("int64"),
        "is_skipped": raw["skipped"].fillna(False).astype(bool),
        "ended_at": pd.to_datetime(raw["ts"], utc=True),
    })
    frame["played_at"] = frame["ended_at"] - pd.to_timedelta(frame["ms_played"], unit="ms")
    known = set(tracks["track_id"])
    by_name = tracks.assign(key=_normalise(tracks["track_name"]) + "|" + _normalise(tracks["primary_artist_name"]))
    by_name = by_name.drop_duplicates("key").set_index("key")["track_id"]
    keys = _normalise(frame["track_name"]) + "|" + _normalise(frame["artist_name"])
    frame["track_id"] = np.where(frame["source_track_id"].isin(known), frame["source_track_id"], keys.map(by_name))
    frame = frame[frame["track_id"].notna()].copy()
    frame = frame.merge(tracks.drop(columns=["track_name"]), on="track_id", how="left")
    frame = frame.rename(columns={"primary_genre": "genre"}).sort_values("played_at").reset_index(drop=True)
    local = frame["played_at"].dt.tz_convert(ZoneInfo(timezone))
    frame["local_hour"] = local.dt.hour
    frame["local_weekday"] = local.dt.dayofweek + 1
    frame["daypart"] = daypart(frame["local_hour"])
    frame["is_short_play"] = frame["ms_played"] < 30_000
    frame["has_audio_features"] = frame["energy"].notna()
    gap = frame["played_at"] - frame["ended_at"].shift()
    new_session = gap.isna() | (gap > pd.Timedelta(minutes=session_gap_minutes))
    frame["session_id"] = user_id + "-s" + new_session.cumsum().astype(str)
    frame["play_id"] = user_id + "-" + frame["played_at"].astype("int64").astype(str) + "-" + frame["track_id"]
    frame["mood_quadrant"] = mood_quadrant(frame["valence"], frame["energy"])
    frame["played_at"] = frame["played_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame.loc[:, [*PLAY_COLUMNS, "mood_quadrant"]]


def without_api_plays(df: Any) -> Any:
    """Drop plays that came from the Spotify Web API before any model sees them.

    Spotify's Developer Policy forbids training ML on Spotify Platform content, so models learn only
    from the listener's own privacy export (and the public catalog); API plays stay in the analytics.
    """
    return df.where("source is null or source <> 'api'") if "source" in df.columns else df


def read_plays(spark: Any, table: str = "gold.fct_plays", user_id: str | None = None) -> pd.DataFrame:
    """Matched export plays with audio features from Gold, as pandas (one listener's history fits in memory)."""
    df = without_api_plays(spark.table(table)).where("has_audio_features and track_id is not null")
    if user_id:
        df = df.where(df.user_id == user_id)
    frame = df.select(*PLAY_COLUMNS).toPandas()
    frame["played_at"] = pd.to_datetime(frame["played_at"])
    return frame


def read_tracks(spark: Any, table: str = "gold.dim_tracks") -> pd.DataFrame:
    """Catalog tracks with every audio feature present (the candidates for scoring and negatives)."""
    return spark.table(table).where(SCORABLE_TRACKS).select(*TRACK_COLUMNS).toPandas()
