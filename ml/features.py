"""The feature lists every model shares, so the recommender and the explanations use the same names.

Audio features come from the catalog (``gold.dim_tracks``) and are copied onto plays in
``gold.fct_plays``; the names are the Gold column names (docs/CONTRACTS.md). The list itself is the
project vocabulary (``moodlake.core.vocabulary``: dbt vars ``unit_features`` + ``scaled_features``),
so ml/ and the dbt macros iterate over the same features in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodlake.core import vocabulary

#: Spotify audio features as Gold columns (0..1 except loudness in dB and tempo in BPM).
FEATURES: tuple[str, ...] = vocabulary.audio_features()

#: What listening modes are clustered on: liveness is left out because it mostly measures the
#: recording (live vs studio), not what a listener chooses for a moment.
MODE_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f != "liveness")

#: Catalog genres (TidyTuesday playlist genres) in a fixed order, so a genre's code never depends
#: on which tracks happened to be in a training set. Unknown genres get code -1.
GENRES: tuple[str, ...] = ("edm", "latin", "pop", "r&b", "rap", "rock")

#: Inputs of the preference model: audio features, popularity and the genre code.
PREFERENCE_FEATURES: tuple[str, ...] = (*FEATURES, "popularity", "genre_code")

#: Inputs of the mood model: everything but valence and energy, which define its label.
MOOD_FEATURES: tuple[str, ...] = tuple(f for f in (*FEATURES, "popularity", "genre_code") if f not in ("valence", "energy"))

#: Human units for explanations ("tempo 124 BPM").
UNITS: dict[str, str] = {"tempo": " BPM", "loudness": " dB"}


def genre_code(genre: pd.Series) -> pd.Series:
    """Fixed integer code per genre (-1 when unknown); trees split on it like a category."""
    lookup = {name: i for i, name in enumerate(GENRES)}
    return genre.map(lookup).fillna(-1).astype("int64")


def model_matrix(frame: pd.DataFrame, columns: tuple[str, ...] = PREFERENCE_FEATURES) -> pd.DataFrame:
    """The float matrix a model sees, in a fixed column order; derives ``genre_code`` from the genre.

    Accepts Gold frames with ``primary_genre`` (dim_tracks) or ``genre`` (fct_plays).
    """
    data = frame.copy()
    if "genre_code" in columns and "genre_code" not in data:
        genre_col = "primary_genre" if "primary_genre" in data else "genre"
        data["genre_code"] = genre_code(data[genre_col]) if genre_col in data else -1
    missing = [c for c in columns if c not in data]
    if missing:
        raise KeyError(f"model input lacks columns {missing}; got {sorted(data.columns)}")
    return data.loc[:, list(columns)].astype(np.float64)


def format_value(feature: str, value: float) -> str:
    """A feature value as a person reads it: 0.82, 124 BPM, -6.1 dB, genre name."""
    if feature == "genre_code":
        idx = int(value)
        return GENRES[idx] if 0 <= idx < len(GENRES) else "unknown genre"
    if feature == "tempo":
        return f"{value:.0f} BPM"
    if feature == "loudness":
        return f"{value:.1f} dB"
    if feature == "popularity":
        return f"{value:.0f}/100"
    return f"{value:.2f}"


def feature_label(feature: str) -> str:
    """Feature name for sentences ("genre" instead of "genre_code")."""
    return "genre" if feature == "genre_code" else feature
