"""The recommender evaluation (ml/rec_eval.py) and the NumPy ALS it runs without Spark (ml/als.py).

Small frames built here check the protocol's rules by hand (what is relevant, what is seen, how a
ranking becomes a list of new songs, the metrics); the committed Gold fixture (the real pipeline on
the DEMO exports) checks that the whole evaluation runs and that the product lists stay within reach.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import als
from ml.neighbourhood import song_key
from ml.rec_eval import (
    BASELINES,
    artist_familiarity_ranking,
    cut_times,
    evaluate_listeners,
    evaluate_rolling,
    pooled,
    popularity_ranking,
    score_list,
    split_listener,
    top_new_songs,
    train_part,
    winners,
)

CATALOG = pd.DataFrame({
    "track_id": ["t1", "t2", "t2b", "t3", "t4", "t5"],
    "track_name": ["One", "Two", "Two - Radio Edit", "Three", "Four", "Five"],
    "primary_artist_name": ["A", "A", "A", "B", "B", "C"],
    "primary_genre": ["pop", "pop", "pop", "rock", "rock", "rap"],
    "popularity": [10, 50, 40, 90, 20, 99],
})


def plays(rows: list[tuple[str, str | None, str, str, int, bool]]) -> pd.DataFrame:
    """(user, track_id, track_name, artist, day, skipped) -> fct_plays-like rows."""
    return pd.DataFrame([{
        "user_id": u, "track_id": t, "track_name": n, "artist_name": a,
        "played_at": pd.Timestamp("2026-01-01") + pd.Timedelta(days=d), "is_skipped": s, "is_short_play": False,
    } for u, t, n, a, d, s in rows])


def test_split_counts_only_new_recommendable_songs_after_the_cut() -> None:
    frame = plays([
        ("u", "t1", "One", "A", 0, False),
        ("u", None, "Two - Radio Edit", "A", 1, False),  # unmatched, but the same song as t2 by title + artist
        ("u", "t1", "One", "A", 10, False),  # a replay: not relevant
        ("u", "t2", "Two", "A", 11, False),  # seen before the cut under another name: not relevant
        ("u", "t3", "Three", "B", 12, False),  # new and in the catalog: relevant
        ("u", "t4", "Four", "B", 13, True),  # skipped: not a choice
        ("u", None, "Zero", "Z", 14, False),  # new, but nothing the catalog could recommend
    ])
    split = split_listener(frame, CATALOG, "u", pd.Timestamp("2026-01-05"))
    assert split.train_plays == 2 and split.test_plays == 5
    assert split.seen == {song_key(pd.Series(["One"]), pd.Series(["A"]))[0], song_key(pd.Series(["Two"]), pd.Series(["A"]))[0]}
    assert split.relevant == {"three|b"} and split.relevant_outside == 1
    assert split.test_artists == {"a", "b", "z"}


def test_rankings_become_lists_of_new_distinct_songs() -> None:
    keys = pd.Series(song_key(CATALOG["track_name"], CATALOG["primary_artist_name"]).to_numpy(), index=CATALOG["track_id"])
    assert list(popularity_ranking(CATALOG)) == ["t5", "t3", "t2", "t2b", "t4", "t1"]
    listened = plays([("u", None, "x", "B", 0, False), ("u", None, "y", "B", 1, False), ("u", None, "z", "A", 2, False),
                      ("u", None, "w", "A", 3, True)])  # a skip is not familiarity
    assert list(artist_familiarity_ranking(listened, CATALOG, "u")) == ["t3", "t4", "t2", "t2b", "t1"]
    ranked = top_new_songs(["t2", "t2b", "t1", "t5", "t3"], keys, frozenset({"one|a"}), k=3)
    assert ranked == ["two|a", "five|c", "three|b"]  # t2b is t2 again, t1 was heard
    artists = {"two|a": "a", "five|c": "c", "three|b": "b", "four|b": "b"}
    capped = top_new_songs(["t3", "t4", "t2", "t5"], keys, frozenset(), k=3, song_artist=artists, max_per_artist=1)
    assert capped == ["three|b", "two|a", "five|c"]  # one song per artist: t4 (B again) is passed over


def test_metrics_by_hand() -> None:
    recall, ndcg = als.ranking_metrics(["a", "x", "b"], {"a", "b", "c", "d"}, k=3)
    assert recall == 0.5 and ndcg == pytest.approx((1 + 1 / 2) / (1 + 1 / np.log2(3) + 1 / 2))
    frame = plays([("u", "t1", "One", "A", 0, False), ("u", "t3", "Three", "B", 10, False)])
    split = split_listener(frame, CATALOG, "u", pd.Timestamp("2026-01-05"))
    out = score_list(["five|c", "three|b"], split, {"rock"}, {"five|c": "rap", "three|b": "rock"},
                     {"five|c": "c", "three|b": "b"}, k=20)
    assert out["recall"] == 1.0 and out["hits"] == 1 and out["n_recommended"] == 2
    assert out["ndcg"] == pytest.approx((1 / np.log2(3)) / 1.0)
    assert out["artist_hit"] == 0.5 and out["in_genres"] == 0.5


def test_rolling_folds_test_on_the_next_window_only_and_pool_hits(gold_fixture) -> None:
    listening, tracks = gold_fixture
    folds = evaluate_rolling(listening, tracks, ["demo-ben"], k=10, starts=(0.7, 0.8), window=0.1,
                             methods=("popularity", "artist_familiarity_2pa"))
    assert sorted(folds["fold"].unique()) == [0.7, 0.8]
    later = folds[folds["fold"] == 0.8].iloc[0]
    earlier = folds[folds["fold"] == 0.7].iloc[0]
    assert earlier["cutoff"] < later["cutoff"] and earlier["train_plays"] < later["train_plays"]
    assert earlier["test_plays"] < 0.15 * len(listening[listening["user_id"] == "demo-ben"])  # a 10 % window
    table = pooled(folds).set_index("method")
    assert table.loc["popularity", "relevant"] == folds[folds["method"] == "popularity"]["n_relevant"].sum()
    assert table.loc["artist_familiarity_2pa", "pooled_recall"] == pytest.approx(
        table.loc["artist_familiarity_2pa", "hits"] / table.loc["artist_familiarity_2pa", "relevant"])


def test_every_listener_is_cut_at_their_own_time() -> None:
    frame = plays([("u", "t1", "One", "A", d, False) for d in range(10)] + [("v", "t1", "One", "A", 100 + d, False)
                                                                              for d in range(10)])
    cuts = cut_times(frame, 0.2)
    assert cuts["u"] < cuts["v"]
    train = train_part(frame, cuts)
    assert train.groupby("user_id").size().to_dict() == {"u": 8, "v": 8}


def test_local_als_recommends_what_similar_listeners_play() -> None:
    counts = pd.DataFrame({
        "user_id": ["u1", "u1", "u2", "u2", "u2", "u3", "u3"],
        "track_id": ["a", "b", "a", "b", "c", "x", "y"],
        "plays": [5, 3, 4, 4, 6, 7, 2],
    })
    model = als.fit_als_local(counts, als.AlsParams(rank=4, max_iter=15))
    scores = model.scores("u1")
    assert scores["c"] > scores["x"] and scores["c"] > scores["y"]  # u2 shares u1's taste and plays c
    assert scores["a"] > scores["c"]  # what u1 plays still ranks first
    assert model.scores("nobody").empty


def test_evaluation_runs_on_the_demo_gold_and_lists_stay_within_reach(gold_fixture) -> None:
    listening, tracks = gold_fixture
    methods = ("popularity", "artist_familiarity", "artist_familiarity_2pa", "taste", "mirror", "coach", "als", "hybrid")
    results = evaluate_listeners(listening, tracks, ["demo-ava"], k=20, holdout=0.2, methods=methods)
    assert list(results["method"]) == list(methods)
    assert results["error"].isna().all()
    assert results[["recall", "ndcg", "artist_hit", "in_genres"]].apply(lambda c: c.between(0, 1).all()).all()
    assert (results["n_recommended"] == 20).all() and (results["n_relevant"] > 100).all()
    by = results.set_index("method")
    # the product lists stay in the listener's reach: their genres, mostly artists they go on to play
    assert by.loc["mirror", "in_genres"] >= 0.9 and by.loc["coach", "in_genres"] >= 0.9
    assert by.loc["mirror", "artist_hit"] > by.loc["popularity", "artist_hit"]
    best = winners(results)
    assert best.loc[0, "user_id"] == "demo-ava" and best.loc[0, "best_baseline"] == by.loc[list(BASELINES), "recall"].max()
