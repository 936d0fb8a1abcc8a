"""pandas frames of the Gold tables the models read (docs/CONTRACTS.md), through the shared Spark session.

The models take pandas frames with Gold column names, and only ever from Gold: staging, matching,
sessions, dayparts and mood quadrants are dbt's job, never re-implemented here. A benchmark on a real
export lands it and runs dbt first (bench/ml_real_export.py); the fast unit tests read a small Gold
fixture that the real pipeline wrote (tests/fixtures/gold/, scripts/refresh_gold_fixture.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ml.features import FEATURES

#: Columns of gold.fct_plays the ML stage and the recommender read (a subset of the contract).
PLAY_COLUMNS: tuple[str, ...] = (
    "play_id", "user_id", "track_id", "artist_name", "played_at", "local_date", "ms_played", "is_skipped",
    "is_short_play", "has_audio_features", "local_hour", "local_weekday", "daypart", "session_id", "genre",
    *FEATURES, "popularity", "mood_quadrant",
)

#: Columns of gold.dim_tracks the ML stage reads; ``mood_quadrant`` (dbt's) is the mood model's label.
TRACK_COLUMNS: tuple[str, ...] = (
    "track_id", "track_name", "primary_artist_name", "primary_genre", "popularity", *FEATURES, "mood_quadrant",
)

#: Columns of gold.fct_plays the history features read, for EVERY play (matched to the catalog or not):
#: an unmatched play still says which artist the listener knows (ml.history_features).
HISTORY_COLUMNS: tuple[str, ...] = (
    "play_id", "user_id", "track_id", "artist_name", "album_name", "played_at", "ms_played", "is_short_play",
    "session_id", "genre", *FEATURES,
)

#: Extra gold.dim_tracks columns the preference model's history and catalog features read
#: (credits, album, every catalog genre, title for versions of a song); read_tracks(columns=CANDIDATE_COLUMNS).
CANDIDATE_COLUMNS: tuple[str, ...] = (*TRACK_COLUMNS, "artist_names", "album_name", "genres")

#: Catalog tracks a model can score: an id and every input present (Spark SQL condition).
SCORABLE_TRACKS = " and ".join(f"{c} is not null" for c in ("track_id", *FEATURES, "popularity"))

#: Plays a model learns from: matched to a catalog track that has audio features (Spark SQL condition).
MODEL_PLAYS = "has_audio_features and track_id is not null"


def without_api_plays(df: Any) -> Any:
    """Drop plays that came from the Spotify Web API before any model sees them.

    Spotify's Developer Policy forbids training ML on Spotify Platform content, so models learn only
    from the listener's own privacy export (and the public catalog); API plays stay in the analytics.
    """
    return df.where("source is null or source <> 'api'") if "source" in df.columns else df


def read_plays(spark: Any, table: str = "gold.fct_plays", user_id: str | None = None) -> pd.DataFrame:
    """Matched export plays with audio features from Gold, as pandas (one listener's history fits in memory)."""
    df = without_api_plays(spark.table(table)).where(MODEL_PLAYS)
    if user_id:
        df = df.where(df.user_id == user_id)
    frame = df.select(*PLAY_COLUMNS).toPandas()
    frame["played_at"] = pd.to_datetime(frame["played_at"])
    return frame


def read_history(spark: Any, table: str = "gold.fct_plays", user_id: str | None = None) -> pd.DataFrame:
    """Every export play (matched or not, API plays excluded) with HISTORY_COLUMNS, as pandas.

    The preference model's history features need all of a listener's listening, not only the plays
    that matched a catalog track with features (read_plays): most artists a listener knows are
    known from unmatched plays too.
    """
    df = without_api_plays(spark.table(table))
    if user_id:
        df = df.where(df.user_id == user_id)
    present = set(df.columns)
    frame = df.select(*[c for c in HISTORY_COLUMNS if c in present]).toPandas()
    frame["played_at"] = pd.to_datetime(frame["played_at"])
    return frame


def read_tracks(spark: Any, table: str = "gold.dim_tracks", columns: tuple[str, ...] = TRACK_COLUMNS) -> pd.DataFrame:
    """Catalog tracks with every audio feature present (the candidates for scoring and negatives).

    `columns`: TRACK_COLUMNS (the contract every model reads) or CANDIDATE_COLUMNS (the
    preference model's catalog features); columns the table lacks are skipped.
    """
    df = spark.table(table).where(SCORABLE_TRACKS)
    return df.select(*[c for c in columns if c in set(df.columns)]).toPandas()
