"""SHAP (TreeExplainer) on the preference model: additivity, shares, per-track rows."""

from __future__ import annotations

import numpy as np
import pytest

from ml.explain import explain_tracks, global_shares, shap_values
from ml.preference import build_dataset, fit_preference


@pytest.fixture(scope="module")
def ava_model(ml_plays, ml_tracks):
    """demo-ava's plain booster on audio + history features, carrying her history to score any track."""
    result = fit_preference(build_dataset(ml_plays["demo-ava"], ml_tracks, "plain"), feature_set="audio+history")
    return result.booster.with_history(result.data.history)


def test_shap_values_sum_to_the_model_output(ava_model, ml_tracks) -> None:
    x = ava_model.matrix(ml_tracks.sample(500, random_state=0))
    assert np.isnan(x.to_numpy()).any()  # unknown artists have no "days since": SHAP must cope with NaN
    values, expected = shap_values(ava_model, x)
    np.testing.assert_allclose(expected + values.sum(axis=1), ava_model.estimator.decision_function(x), atol=1e-6)


def test_global_shares_sum_to_one_and_find_the_demo_taste(ava_model, ml_tracks) -> None:
    values, _ = shap_values(ava_model, ava_model.matrix(ml_tracks.sample(2000, random_state=0)))
    shares = global_shares(values, ava_model.features)
    assert sum(shares.values()) == pytest.approx(1.0)
    # demo-ava's taste pulls hardest on tempo (123 +- 7 BPM) and danceability: they must lead
    assert set(list(shares)[:3]) & {"tempo", "danceability"}


def test_explanations_rank_by_absolute_contribution(ava_model, ml_tracks) -> None:
    sample = ml_tracks.sample(40, random_state=2)
    out = explain_tracks(ava_model, sample)
    assert len(out) == 3 * len(sample)
    assert set(out["feature"]) <= {*map(str, ava_model.features), "genre", *_labels(ava_model.features)}
    for _, group in out.groupby("track_id"):
        assert group["rank"].tolist() == [1, 2, 3]
        sizes = group["contribution"].abs().tolist()
        assert sizes == sorted(sizes, reverse=True)
        assert group["reason"].nunique() == 1 and group["reason"].iloc[0].endswith(".")


def test_explanations_score_like_the_model(ava_model, ml_tracks) -> None:
    """What the catalog scoring writes: explanation inputs and scores come from the same features."""
    sample = ml_tracks.sample(30, random_state=3)
    values, expected = shap_values(ava_model, ava_model.matrix(sample))
    logits = expected + values.sum(axis=1)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), ava_model.predict_proba(sample)[:, 1], atol=1e-6)


def _labels(features: tuple[str, ...]) -> set[str]:
    from ml.features import feature_label

    return {feature_label(f) for f in features}
