"""SHAP explanations of the preference model (TreeExplainer: exact for trees, unlike KernelExplainer).

Contributions are in the model's raw output (log-odds), so for every track
``expected_value + sum(contributions) == model.decision_function(x)`` (SHAP additivity, tested).
Global importance is each feature's share of the mean |SHAP| ("energy explains 38% of your
preference"); per-track explanations keep the top features with their value, contribution and a
one-line reason for ``gold.ml_track_explanations``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shap
from threadpoolctl import threadpool_limits

from ml.features import PREFERENCE_FEATURES, feature_label, format_value

TOP_FEATURES = 3


def shap_values(model: object, x: pd.DataFrame) -> tuple[np.ndarray, float]:
    """(n, features) SHAP values in log-odds and the expected value, from the tree structure.

    `model` is the tree ensemble, or a PreferenceModel (its ``estimator`` is explained); `x` is
    the float matrix the trees see (``PreferenceModel.matrix``).
    """
    explainer = shap.TreeExplainer(getattr(model, "estimator", model))
    with threadpool_limits(1):
        values = np.asarray(explainer.shap_values(x, check_additivity=False))
    if values.ndim == 3:  # some shap versions return (n, features, classes)
        values = values[..., -1]
    expected = np.ravel(explainer.expected_value)[-1]
    return values, float(expected)


def global_shares(values: np.ndarray, features: tuple[str, ...] = PREFERENCE_FEATURES) -> dict[str, float]:
    """Each feature's share of the mean |SHAP| (shares sum to 1), largest first, labels for people."""
    mean_abs = np.abs(values).mean(axis=0)
    total = float(mean_abs.sum()) or 1.0
    shares = {feature_label(f): float(v / total) for f, v in zip(features, mean_abs, strict=True)}
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def _phrase(feature: str, value: float) -> str:
    return f"{feature_label(feature)} {format_value(feature, value)}"


def reason_line(features: list[str], values: list[float], contributions: list[float]) -> str:
    """One line from the top contributions (largest first): what fits the taste, what counts against."""
    ups = [_phrase(f, v) for f, v, c in zip(features, values, contributions, strict=True) if c > 0][:2]
    downs = [_phrase(f, v) for f, v, c in zip(features, values, contributions, strict=True) if c < 0][:2]
    parts = []
    if ups:
        parts.append(f"{' and '.join(ups)} fit{'s' if len(ups) == 1 else ''} your taste")
    if downs:
        parts.append(f"{' and '.join(downs)} count{'s' if len(downs) == 1 else ''} against it")
    if not parts:
        return "No feature stands out."
    line = "; ".join(parts)
    return line[:1].upper() + line[1:] + "."


def explain_tracks(model: Any, tracks: pd.DataFrame, top: int = TOP_FEATURES) -> pd.DataFrame:
    """Long frame: track_id, rank, feature, value, contribution, reason (top features by |SHAP|).

    `model` is a fitted ml.preference.PreferenceModel; `tracks` is dim_tracks-shaped (track_id,
    primary_artist_name, primary_genre, popularity, audio features, ...): the model computes its
    inputs (history features included) exactly as when it scores them. The reason is the track's
    one-line summary, repeated on each of its rows so any row can be shown alone.
    """
    x = model.matrix(tracks)
    values, _ = shap_values(model.estimator, x)
    order = np.argsort(-np.abs(values), axis=1)[:, :top]
    xv = x.to_numpy()
    ids = tracks["track_id"].to_numpy()
    names = np.array(model.features)
    rows = []
    for i in range(len(x)):
        cols = order[i]
        feats = names[cols].tolist()
        vals = xv[i, cols].tolist()
        contribs = values[i, cols].tolist()
        line = reason_line(feats, vals, contribs)
        for rank, (f, v, c) in enumerate(zip(feats, vals, contribs, strict=True), start=1):
            rows.append((ids[i], rank, feature_label(f), float(v), float(c), line))
    return pd.DataFrame(rows, columns=["track_id", "rank", "feature", "value", "contribution", "reason"])
