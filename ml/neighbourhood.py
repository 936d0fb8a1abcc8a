"""The listener's neighbourhood in the catalog, and the evidence a recommendation list rests on.

Why this exists: a real export is mostly plays the catalog cannot describe track by track (names
only; 2-60 % matched to a catalog track with audio features). Ranking the whole catalog by audio
closeness to a few dozen matched plays recommended gangsta rap to a pop listener because the rap
tracks shared tempo and energy with them. So candidates come from what the listener actually plays:

1. **their artists**: every play counts, matched or not, by artist name (``gold.fct_plays.artist_name``);
   an artist is in the neighbourhood when the catalog (``gold.dim_tracks``, the union of every
   catalog) has tracks by them;
2. **their genres**: the genre of each matched play, else the catalog genres of the play's artist;
3. **neighbour artists**: catalog artists they never played whose tracks are mostly in those genres
   and whose average sound is close to an artist they play; only their tracks in those genres join.
   Genre comes first and audio second, so a far-away genre never enters just because its audio
   features are close.

Within the listener's own history, co-listening (artists played in the same sessions as the artists
of their recent weeks) raises an artist's affinity; across listeners nothing is shared here.

Every list also carries its :class:`EvidenceBase`: how many plays with track-level audio features it
rests on, their share of plays and minutes, how many plays the artist/genre picture rests on, and a
confidence label. When track-level features are scarce the scores lean on artist and genre signals
and the base says so. Everything works on plain pandas frames with Gold column names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from ml.state import MATCH_FEATURES

#: Columns of gold.fct_plays the neighbourhood and the evidence base read: every play, matched or not.
LISTENING_COLUMNS: tuple[str, ...] = (
    "play_id", "user_id", "track_id", "track_name", "artist_name", "played_at", "local_date", "local_weekday",
    "daypart", "ms_played", "is_skipped", "is_short_play", "session_id", "genre", "match_level", *MATCH_FEATURES,
    *(f"artist_est_{f}" for f in MATCH_FEATURES),
)

#: Confidence by the number of usable plays with track-level features: low below the first, high from the second.
CONFIDENCE_PLAYS: tuple[int, int] = (200, 1000)
#: ... capped by their share of listening minutes: at most low below the first, at most medium below the second.
CONFIDENCE_SHARE: tuple[float, float] = (0.05, 0.25)
LEVELS = ("low", "medium", "high")


def artist_key(names: pd.Series) -> pd.Series:
    """Case-folded, whitespace-collapsed artist name: the key plays and catalog artists meet on.

    Deliberately simple: dbt's matching ladder (normalize_artist) decides which plays match a catalog
    track; this only groups one listener's plays with the catalog's tracks by the same name.
    """
    text = names.astype(object).where(names.notna(), None)
    out = pd.Series([None if v is None else " ".join(str(v).casefold().split()) or None for v in text], index=names.index,
                    dtype=object)
    return out


def title_key(titles: pd.Series) -> pd.Series:
    """A loose title key for "the same song twice in one list": case-folded, "(feat. X)" / "[Live]" and
    " - Radio Edit" tails dropped, punctuation and apostrophe variants removed. Not the matching ladder
    (dbt's normalize_title decides matches); only a guard against near-duplicate rows in a list.
    """
    text = titles.astype(object).where(titles.notna(), "").astype(str).str.casefold()
    text = text.str.replace(r"[\(\[].*?[\)\]]", " ", regex=True).str.replace(r"\s+-\s+.*$", "", regex=True)
    return text.str.replace(r"[^\w]+", "", regex=True)


def song_key(titles: pd.Series, artists: pd.Series) -> pd.Series:
    """``title|artist``: one song, whichever album, compilation or edit id it came under."""
    return title_key(titles) + "|" + artist_key(artists).fillna("")


def _flag(plays: pd.DataFrame, column: str) -> pd.Series:
    if column not in plays:
        return pd.Series(False, index=plays.index)
    return plays[column].fillna(False).astype(bool)


def listening_plays(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays that say the listener chose the music: not skipped and not a short play (all of them if none)."""
    keep = ~_flag(plays, "is_skipped") & ~_flag(plays, "is_short_play")
    return plays[keep] if keep.any() else plays


def confidence_label(feature_plays: int, minute_share: float) -> str:
    """low / medium / high from how many plays with track features there are and how much listening they cover."""
    by_n = 0 if feature_plays < CONFIDENCE_PLAYS[0] else 1 if feature_plays < CONFIDENCE_PLAYS[1] else 2
    by_share = 0 if minute_share < CONFIDENCE_SHARE[0] else 1 if minute_share < CONFIDENCE_SHARE[1] else 2
    return LEVELS[min(by_n, by_share)]


@dataclass(frozen=True)
class EvidenceBase:
    """What a listener's lists rest on; shown above every list and kept with it.

    ``feature_plays`` are plays whose matched track has its own audio features (match_level track_id or
    track_name); ``usable_feature_plays`` those of them not skipped and at least 30 s, the plays the
    mood state and the listening mode are computed from. ``catalog_artist_plays`` are plays by an
    artist the catalog has tracks of: what the artist and genre picture rests on.
    """

    user_id: str
    plays: int
    minutes: float
    feature_plays: int
    feature_minutes: float
    usable_feature_plays: int
    estimate_plays: int
    catalog_artist_plays: int
    confidence: str
    state_source: str = "track features"

    @property
    def feature_play_share(self) -> float:
        return self.feature_plays / self.plays if self.plays else 0.0

    @property
    def feature_minute_share(self) -> float:
        return self.feature_minutes / self.minutes if self.minutes else 0.0

    @property
    def artist_play_share(self) -> float:
        return self.catalog_artist_plays / self.plays if self.plays else 0.0

    @property
    def fallback(self) -> bool:
        """Track-level audio features are scarce: scores lean on artist and genre signals."""
        return self.confidence == "low"

    def lines(self) -> list[str]:
        """Two plain lines: what the list rests on, then the confidence and what the scores lean on."""
        rests = (f"Rests on {self.usable_feature_plays:,} plays with track-level audio features (not skipped, 30 s or "
                 f"longer): {self.feature_play_share:.1%} of your {self.plays:,} plays and {self.feature_minute_share:.1%} "
                 f"of minutes have such features. Artists and genres rest on {self.catalog_artist_plays:,} plays "
                 f"({self.artist_play_share:.1%}) by artists in the catalog.")
        confidence = f"Confidence: {self.confidence}"
        if self.fallback:
            confidence += " - audio features are scarce, so scores lean on your artists and genres"
        if self.state_source != "track features":
            confidence += f"; mood state from {self.state_source}"
        return [rests, confidence + "."]

    def sentence(self) -> str:
        """The base as one paragraph (summary.json, the stored framing)."""
        return " ".join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        return {
            "plays": self.plays, "minutes": round(self.minutes, 1), "feature_plays": self.feature_plays,
            "usable_feature_plays": self.usable_feature_plays, "feature_play_share": round(self.feature_play_share, 4),
            "feature_minute_share": round(self.feature_minute_share, 4), "estimate_plays": self.estimate_plays,
            "catalog_artist_plays": self.catalog_artist_plays, "artist_play_share": round(self.artist_play_share, 4),
            "confidence": self.confidence, "fallback": self.fallback, "state_source": self.state_source,
        }


def evidence_base(listening: pd.DataFrame, user_id: str, catalog_keys: set[str] | pd.Index) -> EvidenceBase:
    """Count what a listener's lists can rest on, over every play of theirs (matched or not)."""
    mine = listening[listening["user_id"] == user_id]
    ms = mine["ms_played"].fillna(0).astype(float) if "ms_played" in mine else pd.Series(0.0, index=mine.index)
    has_features = mine["valence"].notna() & mine["energy"].notna()
    usable = has_features & ~_flag(mine, "is_skipped") & ~_flag(mine, "is_short_play")
    estimate = ~has_features & mine["artist_est_valence"].notna() if "artist_est_valence" in mine else ~has_features & False
    in_catalog = artist_key(mine["artist_name"]).isin(set(catalog_keys)) if len(mine) else pd.Series(dtype=bool)
    minutes = float(ms.sum()) / 60000
    feature_minutes = float(ms[has_features].sum()) / 60000
    share = feature_minutes / minutes if minutes else (float(has_features.mean()) if len(mine) else 0.0)
    return EvidenceBase(
        user_id=user_id, plays=len(mine), minutes=minutes, feature_plays=int(has_features.sum()),
        feature_minutes=feature_minutes, usable_feature_plays=int(usable.sum()), estimate_plays=int(estimate.sum()),
        catalog_artist_plays=int(in_catalog.sum()), confidence=confidence_label(int(usable.sum()), share),
    )


# ------------------------------------------------------------------------------------------ catalog


@dataclass
class CatalogArtists:
    """Per catalog artist (by :func:`artist_key` of the primary artist): name, tracks, genre mix, sound."""

    table: pd.DataFrame  # index artist_key: artist_name, tracks, top_genre
    genre_shares: pd.DataFrame  # index artist_key, one column per genre: share of the artist's tracks
    profile: pd.DataFrame  # index artist_key: standardized mean audio features of the artist's tracks

    @classmethod
    def from_tracks(cls, tracks: pd.DataFrame) -> CatalogArtists:
        cat = tracks.assign(artist_key=artist_key(tracks["primary_artist_name"])).dropna(subset=["artist_key"])
        genre = cat["primary_genre"].fillna("unknown")
        counts = pd.crosstab(cat["artist_key"], genre)
        shares = counts.div(counts.sum(axis=1), axis=0)
        feats = list(MATCH_FEATURES)
        means, scales = cat[feats].mean(), cat[feats].std().replace(0, 1).fillna(1)
        profile = ((cat.groupby("artist_key")[feats].mean() - means) / scales).fillna(0.0)
        table = pd.DataFrame({
            "artist_name": cat.groupby("artist_key")["primary_artist_name"].agg(lambda s: s.mode().iloc[0]),
            "tracks": cat.groupby("artist_key").size(),
            "top_genre": counts.idxmax(axis=1),
        })
        return cls(table=table, genre_shares=shares, profile=profile.loc[table.index])


# ------------------------------------------------------------------------------------- neighbourhood


@dataclass(frozen=True)
class NeighbourhoodConfig:
    """How far the neighbourhood reaches; defaults documented in bench/ML_RESULTS.md."""

    genre_coverage: float = 0.9  # the listener's genres: their top genres until this share of genre-known plays ...
    genre_floor: float = 0.01  # ... each at least this share (a stray play or two is not a genre of theirs) ...
    max_genres: int = 12  # ... and at most this many (catalogs such as Kaggle 114k split rock into a dozen labels)
    neighbour_genre_overlap: float = 0.5  # a neighbour artist has at least this share of its tracks in those genres
    neighbour_k: int = 10  # played artists each candidate neighbour is compared with (nearest in sound)
    min_pool: int = 1500  # add neighbour artists until the candidate pool has at least this many tracks
    min_new_tracks: int = 600  # ... and at least this many by artists the listener never played
    max_neighbours: int = 1500  # but never more than this many neighbour artists
    recent_days: int = 90  # "recent" for the affinity, counted back from the listener's last play
    weight_lifetime: float = 0.5  # artist affinity = lifetime plays (log-scaled, 0-1) ...
    weight_recent: float = 0.3  # ... + plays in the recent window ...
    weight_session: float = 0.2  # ... + sessions shared with the recent top artists (within this listener only)
    neighbour_discount: float = 0.4  # a neighbour's affinity: this × sound similarity × the played artist's affinity
    # taste_score = 0.8 × artist part + 0.2 × genre part. Artist part: affinity × (floor + (1 - floor) ×
    # popularity / 100), so a listener meets an artist's known songs first and an obscure B-side keeps 30 %.
    # Genre part: square root of the track genre's share relative to the listener's top genre.
    taste_artist: float = 0.8
    taste_genre: float = 0.2
    taste_popularity_floor: float = 0.3


def _log_scaled(counts: pd.Series) -> pd.Series:
    top = float(counts.max()) if len(counts) else 0.0
    return np.log1p(counts) / np.log1p(top) if top > 0 else counts * 0.0


@dataclass
class Neighbourhood:
    """The catalog tracks within reach of one listener's taste, with the artists and genres behind them."""

    user_id: str
    artists: pd.DataFrame  # index artist_key: artist_name, plays, affinity, source (played | neighbour), near
    genres: pd.Series  # genre -> share of the listener's genre-known plays (sums to 1)
    liked: list[str]
    tracks: pd.DataFrame  # catalog rows + artist_key, source, artist_affinity, genre_share, taste_score
    base: EvidenceBase
    played_keys: set[str] = field(default_factory=set)

    def describe(self) -> str:
        played = int((self.artists["source"] == "played").sum())
        near = int((self.artists["source"] == "neighbour").sum())
        genres = ", ".join(f"{g} {s:.0%}" for g, s in self.genres[self.liked].items())
        return (f"{len(self.tracks):,} catalog tracks by {played:,} artists you play and {near:,} neighbour "
                f"artists in your genres ({genres or 'none known'}).")


def artist_affinity(mine: pd.DataFrame, config: NeighbourhoodConfig) -> pd.DataFrame:
    """Per artist the listener played (by key): plays, display name and an affinity in [0, 1].

    Lifetime plays, plays in the last ``recent_days`` of their listening and co-listening (sessions
    that also hold one of their recent top-5 artists), each log-scaled to [0, 1] and blended.
    """
    plays = listening_plays(mine).assign(artist_key=lambda d: artist_key(d["artist_name"])).dropna(subset=["artist_key"])
    if plays.empty:
        return pd.DataFrame(columns=["artist_name", "plays", "affinity"])
    grouped = plays.groupby("artist_key")
    lifetime = grouped.size()
    when = pd.to_datetime(plays["played_at"])
    recent_rows = plays[when > when.max() - pd.Timedelta(days=config.recent_days)]
    recent = recent_rows.groupby("artist_key").size().reindex(lifetime.index, fill_value=0)
    session = pd.Series(0, index=lifetime.index)
    if "session_id" in plays and plays["session_id"].notna().any():
        top_recent = set(recent.sort_values(ascending=False).head(5).index)
        sessions = set(plays.loc[plays["artist_key"].isin(top_recent), "session_id"].dropna())
        shared = plays[plays["session_id"].isin(sessions)]
        session = shared.groupby("artist_key")["session_id"].nunique().reindex(lifetime.index, fill_value=0)
    total = config.weight_lifetime + config.weight_recent + config.weight_session
    affinity = (config.weight_lifetime * _log_scaled(lifetime) + config.weight_recent * _log_scaled(recent)
                + config.weight_session * _log_scaled(session)) / total
    return pd.DataFrame({
        "artist_name": grouped["artist_name"].agg(lambda s: s.mode().iloc[0]),
        "plays": lifetime, "affinity": affinity,
    })


def genre_shares(mine: pd.DataFrame, artists: CatalogArtists) -> pd.Series:
    """Share of the listener's plays per genre: a matched play's own genre, else its artist's catalog genre mix.

    Plays by artists the catalog does not know carry no genre and are left out (the base says how many).
    """
    plays = listening_plays(mine)
    known_genre = plays["genre"].notna() if "genre" in plays else pd.Series(False, index=plays.index)
    direct = plays.loc[known_genre, "genre"].value_counts() if known_genre.any() else pd.Series(dtype=float)
    rest = artist_key(plays.loc[~known_genre, "artist_name"]).value_counts()
    rest = rest[rest.index.isin(artists.genre_shares.index)]
    via_artist = artists.genre_shares.loc[rest.index].mul(rest, axis=0).sum() if len(rest) else pd.Series(dtype=float)
    total = direct.astype(float).add(via_artist, fill_value=0.0)
    total = total[total > 0].drop("unknown", errors="ignore")
    return (total / total.sum()).sort_values(ascending=False) if total.sum() > 0 else total


def liked_genres(genres: pd.Series, config: NeighbourhoodConfig) -> list[str]:
    """The listener's genres: the top ones until ``genre_coverage`` of their genre-known plays, each at least
    ``genre_floor``, at most ``max_genres``; the top genre always."""
    before = genres.cumsum().shift(fill_value=0.0)  # share covered before adding this genre
    keep = genres[(before < config.genre_coverage) & (genres >= config.genre_floor)].index[: config.max_genres]
    return list(keep) or list(genres.index[:1])


def build_neighbourhood(listening: pd.DataFrame, tracks: pd.DataFrame, user_id: str,
                        config: NeighbourhoodConfig | None = None,
                        artists: CatalogArtists | None = None) -> Neighbourhood:
    """Artists the listener plays, their genres and neighbour artists; the catalog tracks of all of them.

    ``listening`` is every play (any match level) with at least user_id, artist_name, played_at;
    ``tracks`` the catalog candidates (gold.dim_tracks rows with audio features).
    """
    config = config or NeighbourhoodConfig()
    artists = artists or CatalogArtists.from_tracks(tracks)
    mine = listening[listening["user_id"] == user_id]
    base = evidence_base(listening, user_id, artists.table.index)
    played = artist_affinity(mine, config)
    # every artist with any play, a skipped one too: never offered as "new to you"
    played_keys = set(artist_key(mine["artist_name"]).dropna()) | set(played.index)
    genres = genre_shares(mine, artists)
    liked = liked_genres(genres, config)
    known = played[played.index.isin(artists.table.index)]
    table = known.assign(source="played", near=None)

    cat = tracks.assign(artist_key=artist_key(tracks["primary_artist_name"]))
    pool = int(cat["artist_key"].isin(known.index).sum())
    if liked and len(known):
        overlap = artists.genre_shares.reindex(columns=liked, fill_value=0.0).sum(axis=1)
        eligible = overlap[(overlap >= config.neighbour_genre_overlap) & ~overlap.index.isin(played_keys)].index
        if len(eligible):
            ref = artists.profile.loc[known.index]
            nn = NearestNeighbors(n_neighbors=min(config.neighbour_k, len(ref))).fit(ref.to_numpy())
            dist, idx = nn.kneighbors(artists.profile.loc[eligible].to_numpy())
            sim = np.exp(-0.5 * dist**2 / len(MATCH_FEATURES))
            weighted = sim * known["affinity"].to_numpy()[idx]
            best = weighted.argmax(axis=1)
            rows = np.arange(len(eligible))
            cands = pd.DataFrame({
                "artist_name": artists.table.loc[eligible, "artist_name"].to_numpy(),
                "plays": 0, "affinity": config.neighbour_discount * weighted[rows, best],
                "source": "neighbour", "near": known["artist_name"].to_numpy()[idx[rows, best]],
                # only their tracks in the listener's genres join the pool
                "tracks": (artists.table.loc[eligible, "tracks"] * overlap.loc[eligible]).round().to_numpy(),
            }, index=eligible).sort_values(["affinity", "artist_name"], ascending=[False, True])
            new_tracks = cands["tracks"].cumsum()
            enough = (new_tracks >= config.min_new_tracks) & (new_tracks + pool >= config.min_pool)
            stop = int(enough.to_numpy().argmax()) + 1 if enough.any() else len(cands)
            table = pd.concat([table, cands.iloc[: min(stop, config.max_neighbours)].drop(columns="tracks")])

    # an artist the listener plays brings every track; a neighbour only its tracks in the listener's genres
    by_played = cat["artist_key"].isin(table.index[table["source"] == "played"])
    by_neighbour = cat["artist_key"].isin(table.index[table["source"] == "neighbour"]) & cat["primary_genre"].isin(liked)
    picked = cat[by_played | by_neighbour].copy()
    picked["source"] = picked["artist_key"].map(table["source"])
    picked["artist_affinity"] = picked["artist_key"].map(table["affinity"]).astype(float)
    top_share = float(genres.max()) if len(genres) else 1.0
    # square root: the second genre of a listener who plays one genre most still counts for something
    picked["genre_share"] = np.sqrt(picked["primary_genre"].map(genres).fillna(0.0).astype(float) / top_share)
    pop = picked["popularity"].fillna(0).astype(float).clip(0, 100) / 100 if "popularity" in picked else 0.5
    floor = config.taste_popularity_floor
    artist_part = picked["artist_affinity"] * (floor + (1 - floor) * pop)
    total = config.taste_artist + config.taste_genre
    picked["taste_score"] = (config.taste_artist * artist_part + config.taste_genre * picked["genre_share"]) / total
    return Neighbourhood(user_id=user_id, artists=table, genres=genres, liked=liked, tracks=picked.reset_index(drop=True),
                         base=base, played_keys=played_keys)


def with_artist_estimates(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays with track-level features, plus plays that only have artist-level estimates (artist_est_*) as
    if they were the play's features: the fallback mood picture when track features are scarce.

    An estimate is the artist's catalog average, not the track: the base says when it is used.
    """
    est = [f"artist_est_{f}" for f in MATCH_FEATURES]
    if not set(est) <= set(plays.columns):
        return plays[plays["valence"].notna()]
    out = plays.copy()
    missing = out["valence"].isna() | out["energy"].isna()
    for f in MATCH_FEATURES:
        out.loc[missing, f] = out.loc[missing, f"artist_est_{f}"]
    return out[out["valence"].notna() & out["energy"].notna()]
