"""Mood model: no valence or energy among its inputs, and better than the majority class."""

from __future__ import annotations

import pytest

from ml.features import MOOD_FEATURES
from ml.mood import fit_mood, mood_inputs


def test_inputs_exclude_valence_and_energy(ml_tracks) -> None:
    assert "valence" not in MOOD_FEATURES and "energy" not in MOOD_FEATURES
    x = mood_inputs(ml_tracks.head(50))
    assert not {"valence", "energy"} & set(x.columns)
    result = fit_mood(ml_tracks.sample(4000, random_state=1), seed=42)
    assert not {"valence", "energy"} & set(result.model.feature_names_in_)


def test_beats_majority_baseline_and_is_reproducible(ml_tracks) -> None:
    sample = ml_tracks.sample(6000, random_state=3)
    result = fit_mood(sample, seed=42)
    assert result.macro_f1 > result.baseline_macro_f1 + 0.2
    assert result.confusion.sum() == result.n_test
    assert fit_mood(sample, seed=42).metrics() == result.metrics()


def test_refuses_a_leaking_input(ml_tracks, monkeypatch: pytest.MonkeyPatch) -> None:
    import ml.mood

    monkeypatch.setattr(ml.mood, "MOOD_FEATURES", (*MOOD_FEATURES, "energy"))
    with pytest.raises(AssertionError, match="must not include"):
        ml.mood.mood_inputs(ml_tracks.head(5))
