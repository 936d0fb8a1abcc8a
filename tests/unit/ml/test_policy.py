"""The policy's promises on plain pandas inputs (no Spark): state, streaks, bands, caps, contexts.

Inputs are the committed Gold fixture (the real pipeline on the DEMO histories and the bundled
catalog, tests/fixtures/gold/); demo-noor ends on a 21-day low-valence run (ingestion/demo.py),
demo-ava does not.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ml.policy import PolicyConfig, feature_scales, reason, score, select, select_in_band
from ml.state import MATCH_FEATURES, Context, compute_state, low_valence_streak, mode_profile, parse_context


@pytest.fixture(scope="module")
def frames(gold_fixture) -> tuple[pd.DataFrame, pd.DataFrame]:
    return gold_fixture


def test_streak_counts_low_days_back_from_the_last_active_day() -> None:
    daily = pd.Series([0.5, 0.2, 0.1, 0.3], index=pd.date_range("2026-01-01", periods=4).date)
    assert low_valence_streak(daily, 0.35) == 3
    assert low_valence_streak(daily.iloc[:1], 0.35) == 0


def test_noor_is_on_a_low_valence_streak_and_ava_is_not(frames) -> None:
    plays, _ = frames
    noor, ava = compute_state(plays, "demo-noor"), compute_state(plays, "demo-ava")
    assert noor.in_streak and noor.streak_days >= 21
    assert noor.recent_valence < noor.low_threshold < noor.baseline_valence
    assert not ava.in_streak
    assert "21" not in noor.framing("mirror") and "days" in noor.framing("coach")


def test_coach_steps_up_inside_the_cap_without_collaborative_or_preference_scores(frames) -> None:
    plays, tracks = frames
    state = compute_state(plays, "demo-noor")
    profile = mode_profile(plays, state, Context("now"))
    config = PolicyConfig()
    scored = score(tracks, state, profile, feature_scales(tracks), config)
    coach = select(scored, "coach", 20, state, profile, config)
    step = coach["valence"].mean() - state.recent_valence
    assert 0.05 <= step <= 0.15
    assert (coach["valence"] >= state.recent_valence).all()  # never further down, track by track
    assert (coach["valence"] <= state.recent_valence + config.coach_track_cap).all()
    assert coach["improvement_score"].mean() > scored["improvement_score"].mean()
    mirror = select(scored, "mirror", 20, state, profile, config, anchor_valence=state.recent_valence)
    assert abs(mirror["valence"].mean() - state.recent_valence) <= 0.05
    assert mirror["match_score"].mean() > coach["match_score"].mean() - 0.2


def test_a_smaller_configured_cap_is_honoured(frames) -> None:
    plays, tracks = frames

    class Overrides:
        recommend_coach_step_max = 0.08
        recommend_coach_step_target = 0.065

    config = PolicyConfig.from_settings(Overrides())
    assert config.coach_step_max == 0.08
    state = compute_state(plays, "demo-noor")
    profile = mode_profile(plays, state, Context("now"))
    coach = select(score(tracks, state, profile, feature_scales(tracks), config), "coach", 20, state, profile, config)
    assert 0.05 <= coach["valence"].mean() - state.recent_valence <= 0.08


def test_band_that_cannot_be_reached_is_an_error_not_a_broken_promise() -> None:
    ranked = pd.DataFrame({"track_id": list("abcd"), "valence": [0.1, 0.2, 0.2, 0.3]})
    with pytest.raises(ValueError, match=r"mean valence in \[0.80, 0.90\]"):
        select_in_band(ranked, 2, 0.8, 0.9)
    picked = select_in_band(ranked, 2, 0.24, 0.26)
    assert sorted(picked["track_id"]) == ["b", "d"]  # the only pair with mean 0.25 keeps the better-ranked b


def test_reason_names_two_features_and_the_valence_step(frames) -> None:
    plays, tracks = frames
    state = compute_state(plays, "demo-ava")
    profile = mode_profile(plays, state, parse_context("monday morning"))
    scales = feature_scales(tracks)
    row = score(tracks.head(1), state, profile, scales, PolicyConfig()).iloc[0]
    text = reason(row, "coach", state, profile, scales, PolicyConfig(), shap_note="energy +0.10, tempo -0.02")
    assert "Monday morning mode" in text and "above your recent average" in text
    assert sum(f in text for f in MATCH_FEATURES) >= 2
    assert text.endswith("preference model: energy +0.10, tempo -0.02.")


def test_context_parsing() -> None:
    assert parse_context("monday morning") == Context("monday morning", "morning", 1)
    assert parse_context("Evenings") == Context("evenings", "evening", None)
    assert parse_context(None).label == "now"
    with pytest.raises(ValueError, match="lunchtime"):
        parse_context("lunchtime")


def test_context_profile_uses_only_that_context(frames) -> None:
    plays, _ = frames
    state = compute_state(plays, "demo-ava")
    morning = mode_profile(plays, state, parse_context("monday morning"))
    night = mode_profile(plays, state, parse_context("night"))
    assert morning.centroid["energy"] > night.centroid["energy"]  # Ava's commute vs her late nights
    assert morning.centroid["tempo"] > 115
