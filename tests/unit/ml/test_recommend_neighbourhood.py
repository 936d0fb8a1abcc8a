"""Recommendations for real listeners: candidates from the listener's own neighbourhood, lists that say
what they rest on, and the fallback to artist and genre signals when track features are scarce.

Inputs are the committed Gold fixture's catalog (tests/fixtures/gold/, the real pipeline's
gold.dim_tracks on the bundled catalog) and its DEMO listeners, plus a small listener built here the
way a real names-only export lands in gold.fct_plays: mostly one pop artist, 2 % of plays matched to a
catalog track with features, the rest unmatched (artist-level estimate only) or by an artist the
catalog does not know. No Spark: ALS runs in NumPy (ml.als.fit_als_local).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.neighbourhood import (
    CatalogArtists,
    NeighbourhoodConfig,
    artist_key,
    build_neighbourhood,
    confidence_label,
    evidence_base,
    liked_genres,
)
from ml.policy import PolicyConfig, feature_scales, score, select
from ml.recommend import RecInputs, Recommender, describe_list
from ml.state import MATCH_FEATURES, Context, compute_state, mode_profile
from moodlake.app.console import recording_console
from moodlake.app.recommend import print_recommendation

USER = "pop-fan"
STAR = "Ariana Grande"  # 43 fixture tracks, three quarters of them in pop playlists
UNKNOWN = "Nobody Knows Band"  # not in the catalog


def pop_fan_plays(tracks: pd.DataFrame, plays: int = 2000, matched: int = 40, unknown: int = 60) -> pd.DataFrame:
    """gold.fct_plays rows of a names-only export: `matched` plays with track features, the rest by name."""
    rng = np.random.default_rng(7)
    star = tracks[tracks["primary_artist_name"] == STAR].reset_index(drop=True)
    est = star[list(MATCH_FEATURES)].mean()
    start = pd.Timestamp("2026-01-01 08:00")
    rows = []
    for i in range(plays):
        played_at = start + pd.Timedelta(hours=int(i // 10) * 5, minutes=4 * (i % 10))
        by_unknown = i % (plays // unknown) == 0
        track = star.iloc[int(rng.integers(len(star)))]
        row = {
            "play_id": f"p{i}", "user_id": USER, "track_id": None, "track_name": f"lost song {i % 30}" if by_unknown
            else track["track_name"], "artist_name": UNKNOWN if by_unknown else STAR, "played_at": played_at,
            "local_date": played_at.date(), "local_weekday": played_at.isoweekday(), "daypart": "morning",
            "ms_played": 200_000, "is_skipped": False, "is_short_play": False, "session_id": f"s{i // 10}",
            "genre": None, "match_level": "unknown" if by_unknown else "artist",
            **{f: np.nan for f in MATCH_FEATURES},
            **{f"artist_est_{f}": np.nan if by_unknown else float(est[f]) for f in MATCH_FEATURES},
        }
        rows.append(row)
    frame = pd.DataFrame(rows)
    hits = frame.index[frame["artist_name"] == STAR][:: max(1, (plays - unknown) // matched)][:matched]
    picked = star.sample(len(hits), replace=True, random_state=3).reset_index(drop=True)
    frame.loc[hits, "track_id"] = picked["track_id"].to_numpy()
    frame.loc[hits, "track_name"] = picked["track_name"].to_numpy()
    frame.loc[hits, "genre"] = picked["primary_genre"].to_numpy()
    frame.loc[hits, "match_level"] = "track_id"
    for f in MATCH_FEATURES:
        frame.loc[hits, f] = picked[f].to_numpy()
    return frame


def with_twins(tracks: pd.DataFrame) -> pd.DataFrame:
    """The catalog plus two artists who sound exactly like the star: one in pop, one in rap."""
    star = tracks[tracks["primary_artist_name"] == STAR]
    pop = star.assign(track_id="pop-twin-" + star["track_id"], primary_artist_name="Pop Twin", primary_genre="pop",
                      track_name="twin " + star["track_name"])
    rap = star.assign(track_id="rap-twin-" + star["track_id"], primary_artist_name="Rap Twin", primary_genre="rap",
                      track_name="twin " + star["track_name"])
    return pd.concat([tracks, pop, rap], ignore_index=True)


@pytest.fixture(scope="module")
def catalog(gold_fixture) -> pd.DataFrame:
    return with_twins(gold_fixture[1])


@pytest.fixture(scope="module")
def fan(catalog) -> pd.DataFrame:
    return pop_fan_plays(catalog)


@pytest.fixture(scope="module")
def fan_rec(gold_fixture, catalog, fan) -> Recommender:
    """The pop fan next to the DEMO listeners (their plays widen ALS, as in `moodlake run`)."""
    demo = gold_fixture[0]
    listening = pd.concat([demo, fan], ignore_index=True)
    plays = listening[listening["track_id"].notna() & listening["valence"].notna()]
    return Recommender(None, RecInputs(plays=plays, tracks=catalog, listening=listening))


# ------------------------------------------------------------------------------------- neighbourhood


def test_every_play_counts_by_artist_name_matched_or_not(fan_rec: Recommender, fan: pd.DataFrame) -> None:
    nb = fan_rec.neighbourhood(USER)
    played = nb.artists[nb.artists["source"] == "played"]
    assert list(played["artist_name"]) == [STAR]  # ~1,940 plays, only 40 of them matched to a track
    assert played["plays"].iloc[0] == (fan["artist_name"] == STAR).sum() > 1900
    assert artist_key(pd.Series([UNKNOWN])).iloc[0] in nb.played_keys  # played, but the catalog cannot offer it
    assert nb.genres.index[0] == "pop" and nb.genres["pop"] > 0.5  # the star's catalog genre mix, not 40 plays


def test_neighbours_share_the_genres_and_a_sound_alike_in_a_far_genre_stays_out(fan_rec: Recommender) -> None:
    nb = fan_rec.neighbourhood(USER)
    neighbours = nb.artists[nb.artists["source"] == "neighbour"]
    assert len(neighbours) > 0
    assert neighbours.iloc[0]["artist_name"] == "Pop Twin"  # same sound, same genre: the closest neighbour
    assert "Rap Twin" not in set(nb.artists["artist_name"])  # same sound, far genre: never a candidate
    assert "rap" not in nb.liked
    shares = fan_rec.catalog_artists().genre_shares.reindex(columns=nb.liked, fill_value=0.0).sum(axis=1)
    assert (shares.loc[neighbours.index] >= NeighbourhoodConfig().neighbour_genre_overlap).all()
    assert nb.tracks.loc[nb.tracks["source"] == "neighbour", "primary_genre"].isin(nb.liked).all()
    by_source = nb.tracks.groupby("source")["taste_score"].mean()
    assert by_source["played"] > by_source["neighbour"]  # your artist ranks above a neighbour at equal sound


def test_lists_stay_within_the_listeners_artists_and_genres(fan_rec: Recommender) -> None:
    nb = fan_rec.neighbourhood(USER)
    for mode in ("mirror", "coach"):
        rows = fan_rec.recommend(USER, mode, n=20).rows
        assert len(rows) == 20
        keys = artist_key(rows["artist_name"])
        assert keys.isin(nb.artists.index).all(), mode
        neighbour = ~keys.isin(nb.played_keys)
        assert rows.loc[neighbour, "genre"].isin(nb.liked).all(), rows.loc[neighbour, ["artist_name", "genre"]]
        assert "Rap Twin" not in set(rows["artist_name"])


def test_demo_listener_lists_come_from_their_neighbourhood(gold_fixture) -> None:
    plays, tracks = gold_fixture
    rec = Recommender(None, RecInputs(plays=plays, tracks=tracks))
    nb = rec.neighbourhood("demo-noor")
    assert nb.base.confidence == "high" and not nb.base.fallback
    coach = rec.recommend("demo-noor", "coach", n=20)
    assert artist_key(coach.rows["artist_name"]).isin(nb.artists.index).all()
    fresh = rec.recommend("demo-ava", "mirror", n=15, new_artists_only=True)
    ava = rec.neighbourhood("demo-ava")
    assert not artist_key(fresh.rows["artist_name"]).isin(ava.played_keys).any()
    assert fresh.rows["genre"].isin(ava.liked).all()


# ------------------------------------------------------------------------------------------- base


def test_confidence_grows_with_plays_and_is_capped_by_their_share() -> None:
    assert confidence_label(65, 0.02) == "low"
    assert confidence_label(150, 0.9) == "low"
    assert confidence_label(500, 0.6) == "medium"
    assert confidence_label(5000, 0.6) == "high"
    assert confidence_label(5000, 0.10) == "medium"  # many plays, but a tenth of the listening
    assert confidence_label(5000, 0.03) == "low"


def test_base_counts_every_play_and_says_what_share_has_features() -> None:
    frame = pd.DataFrame({
        "user_id": ["u"] * 5 + ["other"],
        "artist_name": ["A", "A", "A", "B", "C", "A"],
        "ms_played": [60_000, 60_000, 120_000, 60_000, 60_000, 60_000],
        "is_skipped": [False, True, False, False, False, False],
        "is_short_play": [False] * 6,
        "valence": [0.5, 0.4, np.nan, np.nan, np.nan, 0.1],
        "energy": [0.5, 0.4, np.nan, np.nan, np.nan, 0.1],
        "artist_est_valence": [0.5, 0.5, 0.5, np.nan, np.nan, 0.5],
    })
    base = evidence_base(frame, "u", {"a"})
    assert (base.plays, base.feature_plays, base.usable_feature_plays, base.estimate_plays) == (5, 2, 1, 1)
    assert base.catalog_artist_plays == 3 and base.artist_play_share == pytest.approx(0.6)
    assert base.feature_minute_share == pytest.approx(2 / 6)
    assert base.confidence == "low" and base.fallback
    text = base.sentence()
    assert "Rests on 1 plays with track-level audio features" in text and "40.0% of your 5 plays" in text
    assert base.lines()[1].startswith("Confidence: low")
    assert "33.3% of minutes" in text and "lean on your artists and genres" in text


def test_scarce_features_fall_back_to_artist_and_genre_signals_and_say_so(fan_rec: Recommender) -> None:
    base = fan_rec.base(USER)
    assert base.usable_feature_plays == 40 and base.feature_play_share == pytest.approx(0.02)
    assert base.confidence == "low" and base.fallback
    assert "artist-level estimates" in base.state_source  # the mood state is not 40 plays of long ago
    coach = fan_rec.recommend(USER, "coach", n=20)
    assert coach.base == base and "Confidence: low" in describe_list(coach)
    assert "lean on your artists and genres" in coach.rows["framing"].iloc[0]  # kept in gold.ml_recommendations
    # with a low base, taste carries most of match_score: the star's own tracks lead the mirror list
    mirror = fan_rec.recommend(USER, "mirror", n=20)
    assert (mirror.rows["artist_name"] == STAR).sum() >= 2 and mirror.rows["artist_name"].iloc[0] in (STAR, "Pop Twin")
    assert all(r.startswith(("You play", "Pop Twin plays")) or " near " in r for r in mirror.rows["reason"])


def test_taste_weight_follows_confidence_and_blends_into_match_score(gold_fixture) -> None:
    plays, tracks = gold_fixture
    config = PolicyConfig()
    assert config.taste_weight("low") > config.taste_weight("medium") > config.taste_weight("high")
    state = compute_state(plays, "demo-ben")
    profile = mode_profile(plays, state, Context("now"))
    cands = tracks.head(500).assign(taste_score=np.linspace(1, 0, 500))
    audio = score(cands, state, profile, feature_scales(tracks), config)
    leaning = score(cands, state, profile, feature_scales(tracks), config, taste_weight=0.8)
    assert leaning["match_score"].between(0, 1).all()
    expected = 0.2 * audio["match_score"] + 0.8 * cands["taste_score"]
    assert np.allclose(leaning["match_score"], expected)


def test_coach_guard_keeps_enough_of_a_small_pool(gold_fixture) -> None:
    plays, tracks = gold_fixture
    config = PolicyConfig()
    state = compute_state(plays, "demo-noor")
    profile = mode_profile(plays, state, Context("now"))
    window = tracks[(tracks["valence"] >= state.recent_valence) & (tracks["valence"] <= state.recent_valence + 0.25)]
    small = score(window.head(300), state, profile, feature_scales(tracks), config)
    coach = select(small, "coach", 20, state, profile, config)  # the top 10 % alone would be 30 tracks
    assert len(coach) == 20 and 0.05 <= coach["valence"].mean() - state.recent_valence <= 0.15


# -------------------------------------------------------------------------------------------- show


def test_cli_prints_the_base_above_the_table_in_plain_text(fan_rec: Recommender) -> None:
    result = fan_rec.recommend(USER, "coach", n=5)
    result.rows.loc[0, "track_name"] = "Song [Live] [bold]"
    console = recording_console()
    print_recommendation(console, result)
    text = console.export_text()
    assert "\x1b[" not in text
    lines = text.splitlines()
    base_line = next(i for i, line in enumerate(lines) if line.startswith("Rests on 40 plays"))
    title = next(i for i, line in enumerate(lines) if "coach · pop-fan · now" in line)
    assert base_line < title and lines[base_line + 1].startswith("Confidence: low")
    assert any(line.startswith("Candidates: ") for line in lines[:title])
    assert "Song [Live] [bold]" in text  # catalog text is not markup
    row = next(line for line in lines if "Song [Live]" in line)
    assert "You play" in row or " near " in row  # one row per line when piped: the reason is on it


def test_the_listeners_genres_cover_most_of_their_plays_but_not_stray_ones() -> None:
    shares = pd.Series({"garage": 0.67, "hardcore": 0.09, "industrial": 0.05, "hard-rock": 0.05, "rock": 0.03,
                        "metal": 0.02, "pop": 0.005})
    shares = shares / shares.sum()
    liked = liked_genres(shares, NeighbourhoodConfig())
    assert liked == ["garage", "hardcore", "industrial", "hard-rock"]  # 90 % of the plays, not only the top genre
    floor = liked_genres(shares, NeighbourhoodConfig(genre_coverage=1.0))
    assert "metal" in floor and "pop" not in floor  # half a percent is a stray play, not a genre of theirs
    assert liked_genres(pd.Series({"jazz": 1.0}), NeighbourhoodConfig()) == ["jazz"]


def test_catalog_artists_know_genre_mix_and_sound(gold_fixture) -> None:
    artists = CatalogArtists.from_tracks(gold_fixture[1])
    key = artist_key(pd.Series([STAR])).iloc[0]
    assert artists.table.loc[key, "tracks"] == 43 and artists.table.loc[key, "top_genre"] == "pop"
    assert artists.genre_shares.loc[key].sum() == pytest.approx(1.0)
    assert list(artists.profile.columns) == list(MATCH_FEATURES)


def test_build_neighbourhood_without_any_catalog_artist_is_empty_not_an_error(gold_fixture) -> None:
    tracks = gold_fixture[1]
    frame = pd.DataFrame({"user_id": ["x"] * 3, "artist_name": [UNKNOWN] * 3,
                          "played_at": pd.date_range("2026-01-01", periods=3), "valence": np.nan, "energy": np.nan})
    nb = build_neighbourhood(frame, tracks, "x")
    assert nb.tracks.empty and nb.base.plays == 3 and nb.base.catalog_artist_plays == 0
    assert nb.base.confidence == "low"
