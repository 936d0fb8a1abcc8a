"""Features from the listener's own history, as of a moment: what they knew and played before then.

A catalog track's audio features say little about whether *this* listener will play it; their own
history says much more (do they know the artist, how recently, how much of their listening is this
genre). Every feature of a row is computed **as of** that row's moment ``as_of``: only plays
strictly before it count. Two rules make that leak-free and fair to the sampled negatives:

* ``as_of`` is what the caller says (the cutoff for test rows, the scoring moment for the catalog,
  the positive's discovery for train rows; see :mod:`ml.preference`), and
* it is moved back to the first play of the candidate track itself, if that came earlier, so a
  track's own plays (e.g. a skip before the first real listen) never describe it. Catalog
  negatives are never-played tracks, so without this rule "was touched before" would separate
  the classes by construction rather than by taste.

The look-ups are vectorised: the history is sorted by (key, time) once and each row's "plays of key
k before t" is a binary search (:class:`Timeline`), so any number of distinct ``as_of`` moments
costs one pass (the catalog is scored with per-track moments).

The history is every play of the export (``ml.frames.read_history``), matched to the catalog or
not: an unmatched play still tells which artist the listener knows. Plays of the candidate's artist
are found by :func:`artist_key` on the export's ``artist_name`` and the catalog's
``primary_artist_name``. Optional inputs (``album_name``, ``artist_names``, ``genres``) give their
features when present and NaN otherwise; the boosted trees treat NaN as "unknown".

Catalog fields that only one bundled catalog has (release year and subgenre: TidyTuesday only) are
deliberately not used: whether they are present says which catalog a track comes from, and on the
real exports that provenance alone separates positives from negatives (AUC up to 0.67), which is
an artefact of how the catalogs were assembled, not the listener's taste.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import (
    CATALOG_FEATURES,
    FEATURES,
    HISTORY_FEATURES,
    TASTE_HALF_LIFE_DAYS,
    TASTE_SCALE,
)

DAY_NS = 86_400 * 10**9
RECENT_DAYS = (30, 90)


def artist_key(names: pd.Series) -> pd.Series:
    """Case- and space-insensitive artist name, to find a catalog artist in the export's plays.

    The export and both catalogs spell artists as Spotify does, so case folding is enough for the
    primary artist; the full dbt ``normalize_artist`` key is for matching titles, not needed here.
    """
    return names.astype("string").str.casefold().str.split().str.join(" ").replace("", pd.NA)


def _ns(times: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Nanoseconds since the epoch (int64); tz-naive UTC like Gold's ``played_at``."""
    return pd.to_datetime(pd.Series(np.asarray(times))).to_numpy("datetime64[ns]").astype(np.int64)


class Timeline:
    """Events of many keys (artist, genre, ...), sorted by (key, time), with running sums.

    ``count(codes, t)`` is the number of events of each row's key strictly before the row's time,
    found by one binary search: time is replaced by its rank among the event times (exact, no
    rounding) and (key code, time rank) is packed into one sortable integer.
    """

    def __init__(self, codes: np.ndarray, times: np.ndarray, values: dict[str, np.ndarray] | None = None) -> None:
        codes, times = np.asarray(codes, dtype=np.int64), np.asarray(times, dtype=np.int64)
        order = np.lexsort((times, codes))
        self.times = times[order]
        self.sums = {
            name: np.concatenate([[0.0], np.cumsum(np.asarray(v, dtype=np.float64)[order])])
            for name, v in (values or {}).items()
        }
        self._grid = np.unique(self.times)
        self._width = 2 * len(self._grid) + 2
        # event at grid[i] gets rank 2i+1; a query time t gets 2 * #(grid times < t), which sorts
        # after every earlier event and before every event at t or later: "strictly before t"
        self._packed = codes[order] * self._width + 2 * np.searchsorted(self._grid, self.times) + 1

    def position(self, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start of each row's key block, index after its last event strictly before the row's time).

        Unknown keys (code -1) get an empty block.
        """
        codes = np.asarray(codes, dtype=np.int64)
        query = codes * self._width + 2 * np.searchsorted(self._grid, np.asarray(times, dtype=np.int64), side="left")
        start = np.searchsorted(self._packed, codes * self._width, side="left")
        end = np.searchsorted(self._packed, query, side="left")
        known = codes >= 0
        return np.where(known, start, 0), np.where(known, end, 0)

    def count(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Events of each row's key strictly before the row's time."""
        start, end = self.position(codes, times)
        return (end - start).astype(np.float64)

    def total(self, name: str, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Sum of the value `name` over those events."""
        start, end = self.position(codes, times)
        return self.sums[name][end] - self.sums[name][start]

    def first_last(self, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Time of the key's first and last event before the row's time (NaN where there is none)."""
        start, end = self.position(codes, times)
        some = end > start
        if not len(self.times):
            return np.full(len(start), np.nan), np.full(len(start), np.nan)
        first = np.where(some, self.times[np.minimum(start, len(self.times) - 1)], np.nan)
        last = np.where(some, self.times[np.maximum(end - 1, 0)], np.nan)
        return first.astype(np.float64), last.astype(np.float64)


def _codes(history_keys: pd.Series, query_keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of history keys and of query keys (-1 for a key the history never had)."""
    hist = history_keys.astype("string")
    uniques = pd.Index(hist.dropna().unique())
    hist_codes = uniques.get_indexer(hist.fillna("\x00missing"))
    query_codes = uniques.get_indexer(query_keys.astype("string").fillna("\x00missing"))
    return hist_codes, query_codes


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _genre_lists(frame: pd.DataFrame) -> pd.Series:
    """Every catalog genre of each row: ``genres`` (dim_tracks, all catalogs) or else the one primary genre."""
    single = frame["primary_genre"] if "primary_genre" in frame else frame.get("genre")
    if single is None:
        single = pd.Series(None, index=frame.index, dtype=object)
    if "genres" not in frame:
        return single.map(lambda g: [g] if isinstance(g, str) else [])
    return pd.Series([list(g) if isinstance(g, list | tuple | np.ndarray) and len(g) else ([p] if isinstance(p, str) else [])
                      for g, p in zip(frame["genres"], single, strict=True)], index=frame.index)


def _explode(lists: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(row number, item) for every item of every list (rows of empty lists are absent)."""
    flat = lists.reset_index(drop=True).explode().dropna()
    return flat.index.to_numpy(), flat.astype("string").reset_index(drop=True)


@dataclass
class CatalogContext:
    """What the whole catalog (dim_tracks) says about a track or an artist, independent of any listener.

    ``artist_genres``: each artist's genre profile (share of their catalog tracks per genre), for
    the similarity of an artist the listener never played to their taste. ``collaborators``: pairs
    of artists credited together on some catalog track (a similarity from the catalog's credits).
    ``tracks``: per track the ``CATALOG_FEATURES`` (how many genre lists, artist tracks and
    versions of the same song the catalog has: how ubiquitous a track is beyond its popularity).
    """

    artist_genres: pd.DataFrame
    collaborators: pd.DataFrame
    tracks: pd.DataFrame

    @classmethod
    def from_catalog(cls, catalog: pd.DataFrame) -> CatalogContext:
        tracks = catalog.drop_duplicates("track_id").reset_index(drop=True)
        keys = artist_key(tracks["primary_artist_name"])
        rows, genres = _explode(_genre_lists(tracks))
        counts = pd.DataFrame({"artist_key": keys.to_numpy()[rows], "genre": genres}).dropna().value_counts()
        artist_genres = (counts / counts.groupby(level="artist_key").transform("sum")).rename("weight").reset_index()
        if "artist_names" in tracks:
            rows, names = _explode(tracks["artist_names"].astype("string").str.split(";"))
            credits = pd.DataFrame({"track": rows, "artist_key": artist_key(names.str.strip())}).dropna()
            pairs = credits.merge(credits, on="track", suffixes=("", "_other"))
            collaborators = pairs.loc[pairs["artist_key"] != pairs["artist_key_other"],
                                      ["artist_key", "artist_key_other"]].drop_duplicates().reset_index(drop=True)
        else:
            collaborators = pd.DataFrame({"artist_key": pd.Series(dtype="string"),
                                          "artist_key_other": pd.Series(dtype="string")})
        title = tracks["track_name"].astype("string").str.casefold() if "track_name" in tracks else tracks["track_id"]
        song = keys.fillna("") + "|" + title.fillna(tracks["track_id"])
        stats = pd.DataFrame({
            "track_id": tracks["track_id"],
            "catalog_genres": _genre_lists(tracks).map(len).astype(np.float64),
            "artist_catalog_tracks": keys.map(keys.value_counts()).astype(np.float64),
            "song_versions": song.map(song.value_counts()).astype(np.float64),
        })
        return cls(artist_genres, collaborators, stats.set_index("track_id"))


@dataclass
class History:
    """One listener's plays (and, if given, the catalog's context), prepared once for as-of look-ups.

    ``genre_events``: one row per (play, catalog genre of the played track) with the play's
    minutes split over its genres, so genre shares of listening sum to one.
    """

    plays: pd.DataFrame
    genre_events: pd.DataFrame
    catalog: CatalogContext | None = None

    @classmethod
    def from_plays(cls, plays: pd.DataFrame, catalog: pd.DataFrame | None = None,
                   context: CatalogContext | None = None) -> History:
        """Prepare every play (``ml.frames.read_history``); API plays must already be gone (without_api_plays).

        `catalog` (dim_tracks rows) adds each played track's catalog genres and the catalog context
        (`context`, if already built for another listener, is reused); without a catalog a play's
        genre is fct_plays' ``genre`` and the catalog features are NaN.
        """
        if plays["user_id"].nunique() > 1:
            raise ValueError("a History is one listener's plays")
        frame = plays.copy()
        frame["t"] = _ns(frame["played_at"])
        frame["artist_key"] = artist_key(frame["artist_name"])
        frame["minutes"] = frame["ms_played"].fillna(0).astype(np.float64) / 60_000
        frame["short"] = frame["is_short_play"].fillna(True).astype(np.float64)
        if catalog is not None:
            if "genres" in catalog and "genres" not in frame:
                frame = frame.merge(catalog.drop_duplicates("track_id").loc[:, ["track_id", "genres"]],
                                    on="track_id", how="left")
            if context is None and "primary_artist_name" in catalog:
                context = CatalogContext.from_catalog(catalog)
        frame = frame.sort_values("t", kind="stable").reset_index(drop=True)
        lists = _genre_lists(frame)
        rows, genres = _explode(lists)
        per_genre = frame["minutes"].to_numpy() / np.maximum(lists.map(len).to_numpy(dtype=np.float64), 1)
        events = pd.DataFrame({"t": frame["t"].to_numpy()[rows], "genre": genres, "minutes": per_genre[rows]})
        return cls(frame, events, context)

    def __repr__(self) -> str:  # a model's repr (sklearn get_params) must not print every play
        return f"History({len(self.plays)} plays, catalog context: {self.catalog is not None})"

    def slim(self) -> History:
        """Only the columns the features read: what a registered model carries to score the catalog."""
        keep = ["user_id", "track_id", "played_at", "t", "artist_key", "minutes", "short", "session_id",
                "genre", "album_name", *FEATURES]
        return History(self.plays.loc[:, [c for c in keep if c in self.plays]].copy(), self.genre_events, self.catalog)

    def before(self, moment: pd.Timestamp) -> History:
        """The plays strictly before `moment` (what a model may know at that time)."""
        t = _ns(pd.Series([moment]))[0]
        return History(self.plays[self.plays["t"] < t].reset_index(drop=True),
                       self.genre_events[self.genre_events["t"] < t].reset_index(drop=True), self.catalog)

    def first_play(self) -> pd.Series:
        """track_id -> first time (ns) the listener played it at all, short plays included."""
        known = self.plays.dropna(subset=["track_id"])
        return known.groupby("track_id")["t"].min()


def effective_as_of(history: History, candidates: pd.DataFrame, as_of: pd.Series | pd.Timestamp) -> np.ndarray:
    """Each row's as-of moment (ns): the given one, or the track's own first play if that came first."""
    given = _ns(pd.Series(as_of, index=candidates.index) if isinstance(as_of, pd.Timestamp) else as_of)
    first = history.first_play()
    found = first.index.get_indexer(candidates["track_id"])
    # int64 throughout: a float would round nanoseconds and blur "strictly before"
    own = np.where(found >= 0, first.to_numpy(np.int64)[np.maximum(found, 0)] if len(first) else 0,
                   np.iinfo(np.int64).max)
    return np.minimum(given, own)


def _artist_features(history: History, keys: pd.Series, t: np.ndarray) -> dict[str, np.ndarray]:
    """Familiarity with each row's artist: plays, minutes, skips, first / last play, recent plays."""
    plays = history.plays
    hist_codes, codes = _codes(plays["artist_key"], keys)
    line = Timeline(hist_codes, plays["t"].to_numpy(), {"minutes": plays["minutes"].to_numpy(),
                                                         "short": plays["short"].to_numpy()})
    count = line.count(codes, t)
    first, last = line.first_last(codes, t)
    every = Timeline(np.zeros(len(plays), dtype=np.int64), plays["t"].to_numpy()).count(np.zeros(len(t), np.int64), t)
    out = {
        "artist_plays": count,
        "artist_share": _safe_ratio(count, every),
        "artist_minutes": line.total("minutes", codes, t),
        "artist_skip_rate": _safe_ratio(line.total("short", codes, t), count),
        "artist_days_since_first": (t - first) / DAY_NS,
        "artist_days_since_last": (t - last) / DAY_NS,
    }
    for days in RECENT_DAYS:
        out[f"artist_plays_{days}d"] = count - line.count(codes, t - days * DAY_NS)
    # distinct sessions and tracks: timelines of each (artist, session) / (artist, track)'s first play
    for column, name in (("session_id", "sessions"), ("track_id", "tracks")):
        firsts = plays.dropna(subset=["artist_key", column]).drop_duplicates(["artist_key", column])
        hcodes, qcodes = _codes(firsts["artist_key"], keys)
        out[f"artist_{name}"] = Timeline(hcodes, firsts["t"].to_numpy()).count(qcodes, t)
    return out


def _credited_plays(history: History, candidates: pd.DataFrame, t: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Plays of the most-played credited artist (a known featured artist on an unknown artist's track)."""
    if "artist_names" not in candidates:
        return own
    rows, credits = _explode(candidates["artist_names"].astype("string").str.split(";"))
    hist_codes, codes = _codes(history.plays["artist_key"], artist_key(credits.str.strip()))
    counts = Timeline(hist_codes, history.plays["t"].to_numpy()).count(codes, t[rows])
    best = pd.Series(counts).groupby(rows).max().reindex(range(len(t))).to_numpy()
    return np.fmax(best, own)


def _collaborator_plays(history: History, keys: pd.Series, t: np.ndarray) -> np.ndarray:
    """Plays of the most-played artist the candidate's artist was ever credited with in the catalog.

    A similarity between artists from the catalog's credits: it speaks for artists the listener
    never played, where familiarity says nothing. NaN without the catalog context.
    """
    if history.catalog is None:
        return np.full(len(t), np.nan)
    pairs = pd.DataFrame({"row": np.arange(len(t)), "artist_key": keys.to_numpy()}).merge(
        history.catalog.collaborators, on="artist_key")
    hist_codes, codes = _codes(history.plays["artist_key"], pairs["artist_key_other"].reset_index(drop=True))
    rows = pairs["row"].to_numpy()
    counts = Timeline(hist_codes, history.plays["t"].to_numpy()).count(codes, t[rows])
    return pd.Series(counts).groupby(rows).max().reindex(range(len(t))).fillna(0).to_numpy()


def _album_plays(history: History, candidates: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Earlier plays of any track of an album of the same name (soundtracks and compilations count too)."""
    plays = history.plays
    if "album_name" not in candidates or "album_name" not in plays or plays["album_name"].isna().all():
        return np.full(len(t), np.nan)
    hcodes, qcodes = _codes(plays["album_name"].astype("string").str.casefold(),
                            candidates["album_name"].astype("string").str.casefold().reset_index(drop=True))
    return Timeline(hcodes, plays["t"].to_numpy()).count(qcodes, t)


def _share_features(events: pd.DataFrame, column: str, values: pd.Series | None, t: np.ndarray,
                    name: str) -> dict[str, np.ndarray]:
    """Share of the listener's minutes (all time and last 90 days) in each row's value of `column`."""
    if column not in events or values is None or events[column].isna().all():
        return {name: np.full(len(t), np.nan), f"{name}_90d": np.full(len(t), np.nan)}
    known = events.dropna(subset=[column])
    hcodes, qcodes = _codes(known[column], values.reset_index(drop=True))
    times, minutes = known["t"].to_numpy(), known["minutes"].to_numpy()
    line = Timeline(hcodes, times, {"minutes": minutes})
    everything = Timeline(np.zeros(len(known), dtype=np.int64), times, {"minutes": minutes})
    zeros = np.zeros(len(t), dtype=np.int64)
    mine, all_ = line.total("minutes", qcodes, t), everything.total("minutes", zeros, t)
    since = t - 90 * DAY_NS
    return {name: _safe_ratio(mine, all_),
            f"{name}_90d": _safe_ratio(mine - line.total("minutes", qcodes, since),
                                       all_ - everything.total("minutes", zeros, since))}


def _genre_affinity(history: History, candidates: pd.DataFrame, keys: pd.Series, t: np.ndarray) -> dict[str, np.ndarray]:
    """Listening share of the track's catalog genres (summed), and of its artist's genre profile.

    The artist version is a catalog-genre similarity between the candidate's artist and what the
    listener played (sum over genres of artist profile x listener share), defined for artists the
    listener never played, which is where familiarity says nothing.
    """
    events = history.genre_events
    out = {"genres_share": np.full(len(t), np.nan), "artist_genre_affinity": np.full(len(t), np.nan)}
    if events.empty:
        return out
    hcodes = _codes(events["genre"], pd.Series([], dtype="string"))[0]
    line = Timeline(hcodes, events["t"].to_numpy(), {"minutes": events["minutes"].to_numpy()})
    total = Timeline(np.zeros(len(events), dtype=np.int64), events["t"].to_numpy(),
                     {"minutes": events["minutes"].to_numpy()}).total("minutes", np.zeros(len(t), np.int64), t)

    def share(rows: np.ndarray, genres: pd.Series, weights: np.ndarray) -> np.ndarray:
        codes = _codes(events["genre"], genres)[1]
        part = line.total("minutes", codes, t[rows]) / np.where(total[rows] > 0, total[rows], np.nan) * weights
        return pd.Series(part).groupby(rows).sum(min_count=1).reindex(range(len(t))).to_numpy()

    rows, genres = _explode(_genre_lists(candidates))
    out["genres_share"] = np.where(total > 0, np.nan_to_num(share(rows, genres, np.ones(len(rows)))), np.nan)
    if history.catalog is not None:
        profile = pd.DataFrame({"row": np.arange(len(t)), "artist_key": keys.to_numpy()}).merge(
            history.catalog.artist_genres, on="artist_key")
        affinity = share(profile["row"].to_numpy(), profile["genre"].reset_index(drop=True),
                         profile["weight"].to_numpy())
        out["artist_genre_affinity"] = np.where(total > 0, affinity, np.nan)
    return out


def _taste_distance(history: History, candidates: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Distance of the track's audio features to the recency-weighted mean of past meaningful plays.

    Weights halve every TASTE_HALF_LIFE_DAYS; as-of ``t`` the centroid is a ratio of running sums
    of exp(time / tau) x and exp(time / tau) over earlier plays (the exp(-t / tau) cancels), with
    times relative to the last play so the exponentials stay in range.
    """
    plays = history.plays
    if not set(FEATURES) <= set(plays.columns) or not set(FEATURES) <= set(candidates.columns):
        return np.full(len(t), np.nan)
    usable = plays[(plays["short"] == 0)].dropna(subset=list(FEATURES))
    if usable.empty:
        return np.full(len(t), np.nan)
    scale = np.array([TASTE_SCALE.get(f, 1.0) for f in FEATURES])
    times = usable["t"].to_numpy()
    tau = TASTE_HALF_LIFE_DAYS * DAY_NS / np.log(2)
    weight = np.exp((times - times.max()) / tau)
    x = usable.loc[:, list(FEATURES)].to_numpy(np.float64) / scale
    values = {"w": weight, **{f: weight * x[:, i] for i, f in enumerate(FEATURES)}}
    line = Timeline(np.zeros(len(usable), dtype=np.int64), times, values)
    zeros = np.zeros(len(t), dtype=np.int64)
    total = line.total("w", zeros, t)
    centroid = np.column_stack([_safe_ratio(line.total(f, zeros, t), total) for f in FEATURES])
    cand = candidates.loc[:, list(FEATURES)].to_numpy(np.float64) / scale
    return np.sqrt(((cand - centroid) ** 2).sum(axis=1))


def history_features(history: History, candidates: pd.DataFrame, as_of: pd.Series | pd.Timestamp) -> pd.DataFrame:
    """``HISTORY_FEATURES`` of each candidate row (dim_tracks-shaped) as of its moment.

    `as_of` is one moment for every row or a Series aligned with `candidates`. The result has the
    candidates' index and only plays strictly before each row's effective moment
    (:func:`effective_as_of`) count.
    """
    t = effective_as_of(history, candidates, as_of)
    names = candidates["primary_artist_name"] if "primary_artist_name" in candidates else \
        pd.Series(pd.NA, index=candidates.index, dtype="string")
    keys = artist_key(names).reset_index(drop=True)
    out: dict[str, np.ndarray] = _artist_features(history, keys, t)
    out["credited_artist_plays"] = _credited_plays(history, candidates, t, out["artist_plays"])
    out["collaborator_plays"] = _collaborator_plays(history, keys, t)
    out["album_plays"] = _album_plays(history, candidates, t)
    genre = candidates["primary_genre"] if "primary_genre" in candidates else candidates.get("genre")
    out.update(_share_features(history.plays, "genre", genre, t, "genre_share"))
    out.update(_genre_affinity(history, candidates, keys, t))
    out["taste_distance"] = _taste_distance(history, candidates, t)
    for name in CATALOG_FEATURES:
        out[name] = (candidates["track_id"].map(history.catalog.tracks[name]).to_numpy(np.float64)
                     if history.catalog is not None else np.full(len(t), np.nan))
    return pd.DataFrame(out, index=candidates.index).loc[:, list(HISTORY_FEATURES)]
