"""Recommenders judged on what the listener did next: recall@k on a time split, per listener.

Why a separate protocol from ``ml.als.evaluate``: that one judges ALS on track ids the listener
replays, which a real export (mostly unmatched, one artist on repeat) makes trivial or empty. Here:

- **split per listener**: the last ``holdout`` share of their plays (by time) is the test period. Every
  method sees only what happened before the cut: plays (all of them, matched or not), artists, the mood
  state, ALS factors. Other listeners are cut at their own cut, as in ``ml.als.evaluate``.
- **relevant**: recommendable catalog tracks (``gold.dim_tracks`` rows with audio features) the listener
  *first* played in the test period, not skipped and 30 s or longer, counted once per song
  (title + artist: the same song has several catalog ids). Replays are not relevant, and every method
  ranks only songs the listener had not played before the cut: the lists are for something new.
- **metrics**: recall@k and NDCG@k (binary relevance, ``ml.als.ranking_metrics``), plus two "within
  reach" shares of the k songs: ``artist_hit`` (by an artist the listener played in the test period)
  and ``in_genres`` (in the genres they played before the cut, ``ml.neighbourhood``).

Methods: ``popularity`` (catalog popularity, the same list for everybody); ``artist_familiarity``
(tracks of the artists played most before the cut, each artist's by popularity) and
``artist_familiarity_2pa`` (the same with the lists' variety rule, two songs per artist: a fairer
baseline for lists that have that rule); ``taste`` (the neighbourhood's taste score alone, two per
artist); ``mirror`` and ``coach`` (the product lists, ``ml.recommend``);
``mirror_catalog`` / ``coach_catalog`` (the same policy over the whole catalog without taste: how the
lists were built before the neighbourhood); ``als`` (implicit ALS on play counts) and ``hybrid`` (ALS,
audio neighbours and profile closeness, ``ml.als.hybrid_scores``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ml import als as collab
from ml.neighbourhood import artist_key, listening_plays, song_key
from ml.policy import PolicyConfig
from ml.recommend import RecInputs, Recommender

METHODS: tuple[str, ...] = ("popularity", "artist_familiarity", "artist_familiarity_2pa", "taste", "mirror", "coach",
                            "mirror_catalog", "coach_catalog", "als", "hybrid")
BASELINES: tuple[str, ...] = ("popularity", "artist_familiarity", "artist_familiarity_2pa")
#: Rankings that get the product lists' variety rule (at most PolicyConfig.max_per_artist songs per artist).
PER_ARTIST_CAPPED: tuple[str, ...] = ("artist_familiarity_2pa", "taste")


@dataclass(frozen=True)
class ListenerSplit:
    """One listener's cut: what every method may see, and the songs it is judged on."""

    user_id: str
    cutoff: pd.Timestamp
    train_plays: int
    test_plays: int
    seen: frozenset[str]  # song keys played before the cut
    relevant: frozenset[str]  # recommendable song keys first played (>= 30 s, not skipped) after it
    relevant_outside: int  # songs first played after the cut that the catalog cannot recommend
    test_artists: frozenset[str]  # artist keys played in the test period


def cut_times(listening: pd.DataFrame, holdout: float) -> pd.Series:
    """Per listener the moment by which (1 - holdout) of their plays had happened."""
    when = pd.to_datetime(listening["played_at"])
    return when.groupby(listening["user_id"]).quantile(1 - holdout)


def train_part(listening: pd.DataFrame, cuts: pd.Series) -> pd.DataFrame:
    """Every listener's plays before their own cut (listeners without a cut keep everything)."""
    cut = listening["user_id"].map(cuts)
    return listening[cut.isna() | (pd.to_datetime(listening["played_at"]) < cut)]


def split_listener(listening: pd.DataFrame, tracks: pd.DataFrame, user_id: str, cutoff: pd.Timestamp,
                   until: pd.Timestamp | None = None) -> ListenerSplit:
    """Seen and relevant songs of one listener at `cutoff`, the test period ending before `until` (None: the end)."""
    mine = listening[listening["user_id"] == user_id]
    when = pd.to_datetime(mine["played_at"])
    train = mine[when < cutoff]
    test = mine[(when >= cutoff) & (when < until)] if until is not None else mine[when >= cutoff]
    cat_key = pd.Series(song_key(tracks["track_name"], tracks["primary_artist_name"]).to_numpy(), index=tracks["track_id"])
    cat_key = cat_key[~cat_key.index.duplicated()]

    def keys(frame: pd.DataFrame) -> pd.Series:
        by_id = frame["track_id"].map(cat_key)
        by_name = song_key(frame["track_name"], frame["artist_name"]) if "track_name" in frame else by_id
        return by_id.fillna(by_name)

    seen = set(keys(train).dropna())
    flags = [c for c in ("is_skipped", "is_short_play") if c in test]
    chosen = test[~test[flags].fillna(False).astype(bool).any(axis=1)] if flags else test
    new = chosen[~keys(chosen).isin(seen)]
    recommendable = new[new["track_id"].isin(cat_key.index)]
    relevant = set(recommendable["track_id"].map(cat_key).dropna())
    outside = set(keys(new).dropna()) - relevant
    return ListenerSplit(
        user_id=user_id, cutoff=cutoff, train_plays=len(train), test_plays=len(test), seen=frozenset(seen),
        relevant=frozenset(relevant), relevant_outside=len(outside),
        test_artists=frozenset(artist_key(test["artist_name"]).dropna()),
    )


def top_new_songs(track_ids: list[str] | pd.Index, keys: pd.Series, seen: frozenset[str], k: int,
                  song_artist: dict[str, str] | None = None, max_per_artist: int | None = None) -> list[str]:
    """The first `k` distinct songs of a ranking that the listener had not played before the cut
    (and, with ``max_per_artist``, no more than that many by one artist)."""
    out: list[str] = []
    per_artist: dict[str, int] = {}
    for track in track_ids:
        key = keys.get(track)
        if key is None or key in seen or key in out:
            continue
        if max_per_artist is not None and song_artist is not None:
            artist = song_artist.get(key, key)
            if per_artist.get(artist, 0) >= max_per_artist:
                continue
            per_artist[artist] = per_artist.get(artist, 0) + 1
        out.append(key)
        if len(out) == k:
            break
    return out


def popularity_ranking(tracks: pd.DataFrame) -> pd.Index:
    """Catalog tracks by popularity (ties by id): the same list for everybody."""
    ranked = tracks.sort_values(["popularity", "track_id"], ascending=[False, True], na_position="last")
    return pd.Index(ranked["track_id"])


def artist_familiarity_ranking(train: pd.DataFrame, tracks: pd.DataFrame, user_id: str) -> pd.Index:
    """Catalog tracks of the artists the listener played most before the cut (by name), each artist's by popularity."""
    mine = listening_plays(train[train["user_id"] == user_id])
    counts = artist_key(mine["artist_name"]).value_counts()
    cat = tracks.assign(artist_plays=artist_key(tracks["primary_artist_name"]).map(counts))
    cat = cat[cat["artist_plays"].notna()]
    ranked = cat.sort_values(["artist_plays", "popularity", "track_id"], ascending=[False, False, True])
    return pd.Index(ranked["track_id"])


def score_list(recommended: list[str], split: ListenerSplit, genres: set[str], song_genre: dict[str, str],
               song_artist: dict[str, str], k: int) -> dict[str, float]:
    """recall@k, NDCG@k, hits and the two within-reach shares of one list of song keys."""
    recall, ndcg = collab.ranking_metrics(recommended, set(split.relevant), k)
    top = recommended[:k]
    hits = sum(key in split.relevant for key in top)
    artist_hit = float(np.mean([song_artist.get(key) in split.test_artists for key in top])) if top else 0.0
    in_genres = float(np.mean([song_genre.get(key) in genres for key in top])) if top else 0.0
    return {"recall": recall, "ndcg": ndcg, "hits": hits, "artist_hit": artist_hit, "in_genres": in_genres,
            "n_recommended": len(top)}


def evaluate_listeners(listening: pd.DataFrame, tracks: pd.DataFrame, users: list[str], k: int = 20,
                       holdout: float = 0.2, spark: Any = None, extra_listening: pd.DataFrame | None = None,
                       methods: tuple[str, ...] = METHODS, config: PolicyConfig | None = None,
                       progress: Callable[[str], None] | None = None, window: float | None = None) -> pd.DataFrame:
    """One row per (listener, method): recall@k, NDCG@k, hits, within-reach shares and the split's sizes.

    The test period is the last ``holdout`` share of each listener's plays, or, with ``window``, only
    the next ``window`` share after the cut (rolling-origin folds, :func:`evaluate_rolling`).

    ``listening``: every export play of the evaluated listeners (gold.fct_plays columns, any match
    level); ``tracks``: the recommendable catalog (gold.dim_tracks rows with audio features);
    ``extra_listening``: other listeners' plays that only widen ALS (e.g. the DEMO listeners).
    ``spark`` None fits ALS in NumPy (``ml.als.fit_als_local``), else with Spark MLlib.
    """
    config = config or PolicyConfig()
    tracks = tracks.drop_duplicates("track_id").reset_index(drop=True)
    cuts = cut_times(listening[listening["user_id"].isin(users)], holdout)
    ends = cut_times(listening[listening["user_id"].isin(users)], holdout - window) if window else None
    everything = listening if extra_listening is None else pd.concat([listening, extra_listening], ignore_index=True)
    train = train_part(everything, cuts)
    train_plays = train[train["track_id"].notna() & train["valence"].notna()]
    inputs = RecInputs(plays=train_plays, tracks=tracks, listening=train)
    rec = Recommender(spark, inputs, config)
    plain = replace(config, taste_weight_high=0.0, taste_weight_medium=0.0, taste_weight_low=0.0)
    before = Recommender(spark, inputs, plain, als_model=rec.als_model() if {"mirror_catalog", "coach_catalog"} & set(
        methods) else None)
    keys = pd.Series(song_key(tracks["track_name"], tracks["primary_artist_name"]).to_numpy(), index=tracks["track_id"])
    song_genre = dict(zip(keys, tracks["primary_genre"], strict=True))
    song_artist = dict(zip(keys, artist_key(tracks["primary_artist_name"]), strict=True))
    popular = popularity_ranking(tracks)
    rows: list[dict[str, Any]] = []
    for user in users:
        split = split_listener(listening, tracks, user, cuts[user], ends[user] if ends is not None else None)
        nb = rec.neighbourhood(user)
        base = rec.base(user)
        genres = set(nb.liked)
        for method in methods:
            if progress:
                progress(f"{user}: {method}")
            error = None
            try:
                ranking = _ranking(method, user, rec, before, train, tracks, popular, k)
                cap = config.max_per_artist if method in PER_ARTIST_CAPPED else None
                recommended = top_new_songs(ranking, keys, split.seen, k, song_artist, cap)
            except ValueError as exc:  # too few candidates in the listener's history for this list
                recommended, error = [], str(exc)
            rows.append({
                "user_id": user, "method": method, "k": k,
                **score_list(recommended, split, genres, song_genre, song_artist, k),
                "n_relevant": len(split.relevant), "relevant_outside_catalog": split.relevant_outside,
                "cutoff": split.cutoff, "train_plays": split.train_plays, "test_plays": split.test_plays,
                "confidence": base.confidence, "feature_play_share": round(base.feature_play_share, 4),
                "usable_feature_plays": base.usable_feature_plays, "error": error,
            })
    return pd.DataFrame(rows)


def _ranking(method: str, user: str, rec: Recommender, before: Recommender, train: pd.DataFrame,
             tracks: pd.DataFrame, popular: pd.Index, k: int) -> list[str] | pd.Index:
    """Track ids in rank order for one method (seen songs are dropped by the caller)."""
    if method == "popularity":
        return popular
    if method in ("artist_familiarity", "artist_familiarity_2pa"):
        return artist_familiarity_ranking(train, tracks, user)
    if method == "taste":
        ranked = rec.neighbourhood(user).tracks.sort_values(["taste_score", "track_id"], ascending=[False, True])
        return pd.Index(ranked["track_id"])
    if method in ("mirror", "coach"):
        return list(rec.recommend(user, method, n=k, exclude_played=True).rows["track_id"])
    if method in ("mirror_catalog", "coach_catalog"):
        mode = method.split("_")[0]
        return list(before.recommend(user, mode, n=k, scope="catalog", exclude_played=True).rows["track_id"])
    if method == "als":
        return rec.als_model().scores(user).sort_values(ascending=False, kind="stable").index
    if method == "hybrid":
        return rec.collab_scores(user).sort_values(ascending=False, kind="stable").index
    raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")


def evaluate_rolling(listening: pd.DataFrame, tracks: pd.DataFrame, users: list[str], k: int = 20,
                     starts: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9), window: float = 0.1,
                     **kwargs: Any) -> pd.DataFrame:
    """Rolling-origin folds: cut at each share in `starts` of the listener's plays, test on the next `window`.

    A real export yields a few dozen new catalog songs per test period, so one split's recall rests on
    one or two hits; five folds (each trained only on what came before it) multiply the evidence.
    Rows as :func:`evaluate_listeners`, with a ``fold`` column (the start share).
    """
    folds = []
    for start in starts:
        out = evaluate_listeners(listening, tracks, users, k=k, holdout=1 - start, window=window, **kwargs)
        folds.append(out.assign(fold=start))
    return pd.concat(folds, ignore_index=True)


def pooled(results: pd.DataFrame) -> pd.DataFrame:
    """Per (listener, method) over folds: hits / relevant (pooled recall), mean recall and NDCG, folds."""
    grouped = results.groupby(["user_id", "method"], sort=False)
    out = grouped.agg(hits=("hits", "sum"), relevant=("n_relevant", "sum"), mean_recall=("recall", "mean"),
                      mean_ndcg=("ndcg", "mean"), artist_hit=("artist_hit", "mean"), in_genres=("in_genres", "mean"),
                      folds=("recall", "size"), failed=("error", lambda e: int(e.notna().sum())))
    out["pooled_recall"] = out["hits"] / out["relevant"].where(out["relevant"] > 0)
    return out.reset_index()


def winners(results: pd.DataFrame, metric: str = "recall") -> pd.DataFrame:
    """Per listener the best method by `metric` (ties listed together) and the best baseline's value."""
    out = []
    for user, group in results.groupby("user_id", sort=True):
        best = group[metric].max()
        base = group[group["method"].isin(BASELINES)][metric].max()
        out.append({"user_id": user, "best": ", ".join(group.loc[group[metric] == best, "method"]),
                    metric: best, "best_baseline": base})
    return pd.DataFrame(out)
