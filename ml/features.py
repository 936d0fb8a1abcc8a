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
    if value != value:  # NaN: no history for this feature
        return "none before"
    if feature in COUNT_FEATURES:
        return f"{value:.0f}"
    if feature.endswith("_minutes"):
        return f"{value:.0f} min"
    if feature.startswith("artist_days_since"):
        return f"{value:.0f} days"
    if feature.endswith(("_share", "_share_90d", "_rate", "_affinity")):
        return f"{value:.0%}"
    return f"{value:.2f}"


def feature_label(feature: str) -> str:
    """Feature name for sentences ("genre" instead of "genre_code", "plays of the artist" ...)."""
    return LABELS.get(feature, feature)


#: Artist familiarity as of a moment (ml.history_features): the listener's earlier plays of the
#: candidate track's primary artist (never of the track itself).
ARTIST_FEATURES: tuple[str, ...] = (
    "artist_plays", "artist_share", "artist_minutes", "artist_skip_rate", "artist_days_since_first",
    "artist_days_since_last", "artist_plays_30d", "artist_plays_90d", "artist_sessions", "artist_tracks",
    "credited_artist_plays",  # the most-played of every credited artist (a known featured artist)
    "collaborator_plays",  # the most-played artist ever credited with this one in the catalog
    "album_plays",  # earlier plays of an album of that name (NaN when the export has no album names)
)

#: Taste as of a moment: the share of the listener's past minutes in the track's genre (all time,
#: last 90 days) and in all its catalog genres, the catalog-genre similarity of the track's artist
#: to what they played, and the audio distance to their recency-weighted centroid.
TASTE_FEATURES: tuple[str, ...] = (
    "genre_share", "genre_share_90d", "genres_share", "artist_genre_affinity", "taste_distance",
)

#: What the whole catalog says about a track beyond its popularity snapshot (no listener involved):
#: on how many genre lists it is, how many tracks its artist has, how many versions of the song
#: (albums, singles, compilations) exist. Hits are everywhere; matched negatives do not control that.
CATALOG_FEATURES: tuple[str, ...] = ("catalog_genres", "artist_catalog_tracks", "song_versions")

#: Every feature ml.history_features.history_features returns, in its order.
HISTORY_FEATURES: tuple[str, ...] = (*ARTIST_FEATURES, *TASTE_FEATURES, *CATALOG_FEATURES)

#: Scale of each audio feature in the taste distance (about one catalog standard deviation).
TASTE_SCALE: dict[str, float] = {
    "valence": 0.24, "energy": 0.2, "danceability": 0.16, "acousticness": 0.25, "instrumentalness": 0.23,
    "speechiness": 0.1, "liveness": 0.14, "loudness": 3.5, "tempo": 28.0,
}

#: Half-life of a play's weight in the taste centroid: this season's taste counts more than last year's.
TASTE_HALF_LIFE_DAYS = 90.0

#: Candidate inputs of the preference model; ml.preference.select_feature_set picks one per listener
#: by rolling-origin validation on windows before the test period (never by the test AUC).
#: ``audio`` is the model before history features; ``familiarity`` is artist familiarity and the
#: catalog's ubiquity signals; ``history`` adds the taste features (genre shares, artist genre
#: affinity, taste distance) but leaves the raw audio features out; ``audio+history`` has everything.
PREFERENCE_FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "audio": PREFERENCE_FEATURES,
    "familiarity": ("popularity", "genre_code", *ARTIST_FEATURES, *CATALOG_FEATURES),
    "history": ("popularity", "genre_code", *HISTORY_FEATURES),
    "audio+history": (*PREFERENCE_FEATURES, *HISTORY_FEATURES),
}

#: Used when validation windows have too few positives to choose.
DEFAULT_FEATURE_SET = "audio+history"

#: Single signals scored raw (no model) as baselines: name -> column.
SINGLE_SIGNALS: dict[str, str] = {"popularity": "popularity", "familiarity": "artist_plays"}

#: History features that count things (shown as whole numbers).
COUNT_FEATURES: tuple[str, ...] = (
    "artist_plays", "artist_plays_30d", "artist_plays_90d", "artist_sessions", "artist_tracks",
    "credited_artist_plays", "collaborator_plays", "album_plays", "catalog_genres", "artist_catalog_tracks",
    "song_versions",
)

#: Names for people in explanations and SHAP shares ("plays of the artist 12 fit your taste").
LABELS: dict[str, str] = {
    "genre_code": "genre",
    "artist_plays": "plays of the artist",
    "artist_minutes": "minutes of the artist",
    "artist_skip_rate": "skips of the artist",
    "artist_days_since_first": "knowing the artist for",
    "artist_days_since_last": "last artist play",
    "artist_plays_30d": "artist plays in 30 days",
    "artist_plays_90d": "artist plays in 90 days",
    "artist_sessions": "sessions with the artist",
    "artist_tracks": "tracks of the artist played",
    "credited_artist_plays": "plays of a credited artist",
    "album_plays": "plays of the album",
    "collaborator_plays": "plays of a collaborator of the artist",
    "catalog_genres": "genre lists with the track",
    "artist_catalog_tracks": "catalog tracks of the artist",
    "song_versions": "versions of the song",
    "genre_share": "genre share of listening",
    "genre_share_90d": "genre share in 90 days",
    "genres_share": "share of its genres in your listening",
    "artist_genre_affinity": "artist's genres in your listening",
    "artist_share": "share of plays for the artist",
    "taste_distance": "distance to your usual sound",
}
