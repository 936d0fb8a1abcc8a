"""History features are leak-free: a row's features use only plays strictly before its moment.

The preference model's honesty rests on this: a test row described with one play from the test
period (or a track described by its own plays) would inflate the AUC without anyone noticing.
Properties are checked on random histories (hypothesis, with many ties in time) against a naive
re-count, then on the demo Gold fixture at the dataset, selection and scoring level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml.features import FEATURES, HISTORY_FEATURES
from ml.history_features import CatalogContext, History, Timeline, artist_key, history_features
from ml.preference import build_dataset, choose_cutoff, fit_preference, select_feature_set

T0 = pd.Timestamp("2025-01-01")
ARTISTS = ["Alpha", "beta", "Gamma Ray", "delta", "The Eps"]
GENRES = ["pop", "rock", "rap"]

play_rows = st.lists(
    st.tuples(
        st.integers(0, len(ARTISTS) - 1),  # artist
        st.integers(0, 40),  # minute of the play: small range, so many plays share a moment
        st.integers(0, 300_000),  # ms played
        st.booleans(),  # short play
        st.integers(0, 3),  # session
        st.one_of(st.none(), st.integers(0, len(GENRES) - 1)),  # genre (None: unmatched play)
        st.one_of(st.none(), st.integers(0, 8)),  # track (None: unmatched play)
    ),
    min_size=0, max_size=40,
)
candidate_rows = st.lists(
    st.tuples(
        st.integers(0, len(ARTISTS)),  # artist (len(ARTISTS): never played)
        st.integers(0, 11),  # track (9..11: never played)
        st.integers(0, len(GENRES) - 1),
        st.integers(0, 45),  # minute of the row's moment
    ),
    min_size=1, max_size=6,
)


def make_history(rows: list[tuple]) -> pd.DataFrame:
    rng = np.random.default_rng(len(rows))
    frame = pd.DataFrame({
        "play_id": [f"p{i}" for i in range(len(rows))],
        "user_id": "u",
        "artist_name": [ARTISTS[r[0]].upper() if i % 3 == 0 else ARTISTS[r[0]] for i, r in enumerate(rows)],
        "played_at": [T0 + pd.Timedelta(minutes=r[1]) for r in rows],
        "ms_played": [r[2] for r in rows],
        "is_short_play": [r[3] for r in rows],
        "session_id": [f"s{r[4]}" for r in rows],
        "genre": [None if r[5] is None else GENRES[r[5]] for r in rows],
        "track_id": [None if r[6] is None else f"t{r[6]}" for r in rows],
    })
    for feature in FEATURES:
        frame[feature] = rng.random(len(rows))
    frame["played_at"] = pd.to_datetime(frame["played_at"])
    return frame


def make_candidates(rows: list[tuple]) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    names = [*ARTISTS, "Nobody Known"]
    frame = pd.DataFrame({
        "track_id": [f"t{r[1]}" for r in rows],
        "primary_artist_name": [names[r[0]] for r in rows],
        "primary_genre": [GENRES[r[2]] for r in rows],
        "popularity": 50,
    })
    for feature in FEATURES:
        frame[feature] = rng.random(len(rows))
    return frame, pd.Series([T0 + pd.Timedelta(minutes=r[3]) for r in rows], index=frame.index)


def naive(plays: pd.DataFrame, candidate: pd.Series, as_of: pd.Timestamp) -> dict[str, float]:
    """Artist familiarity and genre share re-counted the slow, obvious way."""
    own = plays.loc[plays["track_id"] == candidate["track_id"], "played_at"]
    moment = min(as_of, own.min()) if len(own) else as_of
    before = plays[plays["played_at"] < moment]
    mine = before[before["artist_name"].astype("string").str.casefold() == candidate["primary_artist_name"].casefold()]
    genre = before.dropna(subset=["genre"])
    total = genre["ms_played"].sum()
    return {
        "artist_plays": len(mine),
        "artist_minutes": mine["ms_played"].sum() / 60_000,
        "artist_plays_30d": int((mine["played_at"] >= moment - pd.Timedelta(days=30)).sum()),
        "artist_sessions": mine["session_id"].nunique(),
        "artist_days_since_last": (moment - mine["played_at"].max()) / pd.Timedelta(days=1) if len(mine) else np.nan,
        "genre_share": genre.loc[genre["genre"] == candidate["primary_genre"], "ms_played"].sum() / total
        if total > 0 else np.nan,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(play_rows, candidate_rows)
def test_features_equal_a_naive_count_of_earlier_plays(plays_spec, candidate_spec) -> None:
    plays = make_history(plays_spec)
    candidates, as_of = make_candidates(candidate_spec)
    features = history_features(History.from_plays(plays), candidates, as_of)
    for i in range(len(candidates)):
        expected = naive(plays, candidates.iloc[i], as_of.iloc[i])
        got = features.iloc[i]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, nan_ok=True, rel=1e-9, abs=1e-9), (i, name)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(play_rows, play_rows, candidate_rows)
def test_plays_at_or_after_a_rows_moment_never_change_its_features(plays_spec, future_spec, candidate_spec) -> None:
    """Per row: the full history and the history cut strictly before the row's moment give the same features.

    Also the other way round: appending arbitrary plays at or after every row's moment changes nothing.
    """
    plays = make_history(plays_spec)
    candidates, as_of = make_candidates(candidate_spec)
    full = history_features(History.from_plays(plays), candidates, as_of)
    for i in range(len(candidates)):
        cut = plays[plays["played_at"] < as_of.iloc[i]]
        alone = history_features(History.from_plays(cut), candidates.iloc[[i]], as_of.iloc[[i]])
        pd.testing.assert_frame_equal(full.iloc[[i]], alone, check_exact=False, rtol=1e-9)
    later = make_history(future_spec)
    later["played_at"] = later["played_at"] + (as_of.max() - T0)  # every one at or after the last moment
    later["play_id"] = "later" + later["play_id"].astype(str)
    grown = history_features(History.from_plays(pd.concat([plays, later], ignore_index=True)), candidates, as_of)
    pd.testing.assert_frame_equal(full, grown, check_exact=False, rtol=1e-9)


def test_a_tracks_own_plays_never_describe_it() -> None:
    """A track skipped once before its moment is described as of just before that skip."""
    plays = make_history([(0, 1, 200_000, False, 0, 0, 1), (0, 5, 1_000, True, 0, 0, 2), (0, 9, 200_000, False, 1, 0, 1)])
    candidates, _ = make_candidates([(0, 2, 0, 20), (0, 7, 0, 20)])  # t2 (skipped at minute 5), t7 (never played)
    out = history_features(History.from_plays(plays), candidates, T0 + pd.Timedelta(minutes=20))
    assert out["artist_plays"].tolist() == [1, 3]  # t2: only the play at minute 1 came before its own skip
    assert out["artist_skip_rate"].tolist() == [0.0, pytest.approx(1 / 3)]


def test_timeline_counts_strictly_before_with_ties() -> None:
    line = Timeline(np.array([0, 0, 0, 1]), np.array([10, 10, 20, 10]), {"v": np.array([1.0, 2.0, 4.0, 8.0])})
    codes = np.array([0, 0, 0, 1, -1])
    times = np.array([10, 11, 21, 11, 100])
    assert line.count(codes, times).tolist() == [0, 2, 3, 1, 0]
    assert line.total("v", codes, times).tolist() == [0, 3, 7, 8, 0]


def test_artist_key_ignores_case_and_spacing() -> None:
    keys = artist_key(pd.Series(["The  Weeknd", "the weeknd ", None, ""]))
    assert keys.iloc[0] == keys.iloc[1] == "the weeknd"
    assert keys.iloc[2:].isna().all()


# ------------------------------------------------------------------------------- demo Gold fixture


@pytest.fixture(scope="module")
def noor(ml_plays, ml_tracks):
    plays = ml_plays["demo-noor"]
    return plays, choose_cutoff(plays)


def scrambled_after(plays: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """The same plays, with every play at or after `moment` rewritten (other artist, genre, length)."""
    out = plays.copy()
    later = out["played_at"] >= moment
    out.loc[later, "artist_name"] = out.loc[later, "artist_name"].sample(frac=1.0, random_state=1).to_numpy()
    out.loc[later, "genre"] = "rock"
    out.loc[later, "ms_played"] = 1
    out.loc[later, "session_id"] = "one-long-session"
    return out


def test_dataset_rows_are_described_before_the_cutoff(noor, ml_tracks) -> None:
    plays, cutoff = noor
    data = build_dataset(plays, ml_tracks, "matched", cutoff=cutoff)
    assert (data.train["as_of"] < cutoff).all() and (data.test["as_of"] <= cutoff).all()
    # train positives are described as of their discovery, negatives as of a positive's discovery
    first = plays.groupby("track_id")["played_at"].min()
    positives = data.train[data.train["label"] == 1]
    assert (positives["as_of"] >= positives["track_id"].map(first)).all()
    assert set(data.train.loc[data.train["label"] == 0, "as_of"]) <= set(positives["as_of"])
    assert set(HISTORY_FEATURES) <= set(data.train.columns)


def test_rewriting_the_test_period_leaves_every_feature_unchanged(noor, ml_tracks) -> None:
    plays, cutoff = noor
    honest = build_dataset(plays, ml_tracks, "matched", cutoff=cutoff, seed=3)
    rewritten = build_dataset(plays, ml_tracks, "matched", cutoff=cutoff, seed=3, history=scrambled_after(plays, cutoff))
    for part in ("train", "test"):
        a, b = getattr(honest, part), getattr(rewritten, part)
        pd.testing.assert_frame_equal(a.loc[:, list(HISTORY_FEATURES)], b.loc[:, list(HISTORY_FEATURES)])


def test_feature_set_selection_is_blind_to_the_test_period(noor, ml_tracks) -> None:
    plays, cutoff = noor
    first = select_feature_set(plays, ml_tracks, cutoff, candidates=("audio", "familiarity"))
    blind = select_feature_set(scrambled_after(plays, cutoff), ml_tracks, cutoff,
                               history=scrambled_after(plays, cutoff), candidates=("audio", "familiarity"))
    assert first.scores == blind.scores and first.feature_set == blind.feature_set
    assert len(first.windows) == 2 and all(end <= str(cutoff) for end in (w.split(" .. ")[1] for w in first.windows))


def test_the_champion_scores_catalog_tracks_from_the_whole_history(noor, ml_tracks) -> None:
    plays, cutoff = noor
    result = fit_preference(build_dataset(plays, ml_tracks, "plain", cutoff=cutoff), feature_set="familiarity")
    history = History.from_plays(plays, ml_tracks, CatalogContext.from_catalog(ml_tracks))
    champion = result.booster.with_history(history)
    assert champion.as_of > plays["played_at"].max()
    sample = pd.concat([ml_tracks[ml_tracks["track_id"].isin(plays["track_id"])].head(20), ml_tracks.sample(50, random_state=0)])
    x = champion.matrix(sample)
    # a played track is described as of its first play, like a train positive; others as of now
    first = plays.groupby("track_id")["played_at"].min()
    played = sample["track_id"].isin(first.index).to_numpy()
    keys = artist_key(plays["artist_name"])
    for row, (_, track) in zip(x.itertuples(), sample.iterrows(), strict=True):
        moment = first.get(track["track_id"], champion.as_of)
        mine = (keys == track["primary_artist_name"].casefold()) & (plays["played_at"] < moment)
        assert row.artist_plays == mine.sum()
    assert played.sum() >= 20
    scores = champion.predict_proba(sample)[:, 1]
    assert ((scores >= 0) & (scores <= 1)).all()
