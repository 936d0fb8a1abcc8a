"""Preference model: will this listener play this catalog track?

Honesty rules, because a preference AUC is easy to inflate:

* **Time split.** Positives are tracks the listener played meaningfully (>= 30 s). Tracks first played
  before the cutoff train the model; tracks first played on or after it (new discoveries) test it.
  :func:`check_split` asserts the two periods and the two track sets do not overlap.
* **Negatives from the catalog, two ways.** ``plain``: uniform over catalog tracks the listener had
  not played. ``matched``: for each positive, negatives from the same genre and popularity ventile (1/20 of the catalog),
  so genre and popularity alone cannot separate the classes. Both are reported.
* Train negatives exclude only tracks played before the cutoff (what was knowable then); a train
  negative later discovered is dropped from the test positives, and test negatives exclude every
  track the listener ever played and every train track, so no track is on both sides.
* A boosted-tree model (HistGradientBoosting) against a logistic-regression baseline, evaluated
  with AUC, PR-AUC, Brier score and a calibration curve.

One model per listener: taste is personal, and the registry holds ``moodlake-preference-<user>``
with the alias ``champion`` (see :func:`load_champion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ml.features import PREFERENCE_FEATURES, model_matrix

Negatives = Literal["plain", "matched"]
NEGATIVE_KINDS: tuple[Negatives, ...] = ("plain", "matched")
NEGATIVE_RATIO = 4  # negatives per positive, in train and in test
TEST_SHARE = 0.25  # the last quarter of the listening history (by plays) is the test period
POPULARITY_BINS = 20  # matched negatives share genre and popularity ventile with their positive
MIN_POSITIVES = 10  # below this a model (and its AUC) means nothing


def model_name(user_id: str) -> str:
    """Registered-model name of a listener's preference model."""
    return f"moodlake-preference-{user_id}"


# ----------------------------------------------------------------------------------------- split


@dataclass
class PreferenceData:
    """Train and test rows (track features + label) of one listener for one negative sampling."""

    user_id: str
    negatives: Negatives
    cutoff: pd.Timestamp
    train: pd.DataFrame
    test: pd.DataFrame
    periods: dict[str, str] = field(default_factory=dict)

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "n_train": len(self.train),
            "n_test": len(self.test),
            "n_train_pos": int(self.train["label"].sum()),
            "n_test_pos": int(self.test["label"].sum()),
        }


def choose_cutoff(plays: pd.DataFrame, test_share: float = TEST_SHARE) -> pd.Timestamp:
    """The moment by which (1 - test_share) of the plays had happened."""
    times = pd.to_datetime(plays["played_at"]).sort_values().reset_index(drop=True)
    return pd.Timestamp(times.iloc[int(len(times) * (1 - test_share))])


def _popularity_bins(tracks: pd.DataFrame) -> pd.Series:
    deciles = pd.qcut(tracks["popularity"].rank(method="first"), POPULARITY_BINS, labels=False)
    return tracks["primary_genre"].fillna("?").astype(str) + "|" + deciles.astype(str)


def _sample_negatives(
    pool: pd.DataFrame, positives: pd.DataFrame, kind: Negatives, ratio: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Draw negatives from `pool` (catalog rows with a `bin` column) without replacement."""
    if kind == "plain":
        size = min(ratio * len(positives), len(pool))
        return pool.iloc[rng.choice(len(pool), size=size, replace=False)]
    picks = []
    wanted = positives["bin"].value_counts()
    for bin_id, group in pool.groupby("bin", sort=True):
        n = min(int(wanted.get(bin_id, 0)) * ratio, len(group))
        if n:
            picks.append(group.iloc[rng.choice(len(group), size=n, replace=False)])
    return pd.concat(picks) if picks else pool.iloc[:0]


def build_dataset(
    plays: pd.DataFrame,
    tracks: pd.DataFrame,
    negatives: Negatives = "plain",
    cutoff: pd.Timestamp | None = None,
    seed: int = 42,
    ratio: int = NEGATIVE_RATIO,
) -> PreferenceData:
    """Time-split positives and sampled catalog negatives for one listener's matched plays."""
    user_ids = plays["user_id"].unique()
    if len(user_ids) != 1:
        raise ValueError(f"build_dataset needs one listener's plays, got {len(user_ids)} listeners")
    cutoff = cutoff if cutoff is not None else choose_cutoff(plays)
    played_at = pd.to_datetime(plays["played_at"])
    # sorted, so the same tables give the same sample whatever order Spark returned the rows in
    catalog = tracks.drop_duplicates("track_id").sort_values("track_id").set_index("track_id", drop=False)
    catalog = catalog.assign(bin=_popularity_bins(catalog))
    meaningful = plays[~plays["is_short_play"].astype(bool) & plays["track_id"].isin(catalog.index)]
    first = meaningful.groupby("track_id")["played_at"].min()
    train_pos = catalog.loc[first.index[first < cutoff]]
    test_pos = catalog.loc[first.index[first >= cutoff]]
    rng = np.random.default_rng(seed)
    seen_before = set(plays.loc[played_at < cutoff, "track_id"])
    seen_ever = set(plays["track_id"])
    train_neg = _sample_negatives(catalog[~catalog.index.isin(seen_before)], train_pos, negatives, ratio, rng)
    # a track drawn as a train negative may be discovered after the cutoff; it then stays out of the
    # test set (a random subset of test positives, so no bias) instead of appearing on both sides
    test_pos = test_pos[~test_pos.index.isin(train_neg.index)]
    if len(train_pos) < MIN_POSITIVES or len(test_pos) < MIN_POSITIVES:
        raise ValueError(
            f"{user_ids[0]}: {len(train_pos)} train / {len(test_pos)} test positive tracks around cutoff {cutoff}; "
            f"need at least {MIN_POSITIVES} each"
        )
    test_pool = catalog[~catalog.index.isin(seen_ever | set(train_neg.index) | set(train_pos.index))]
    test_neg = _sample_negatives(test_pool, test_pos, negatives, ratio, rng)

    def rows(pos: pd.DataFrame, neg: pd.DataFrame) -> pd.DataFrame:
        out = pd.concat([pos.assign(label=1), neg.assign(label=0)], ignore_index=True)
        return out.drop(columns=["bin"]).sample(frac=1.0, random_state=seed).reset_index(drop=True)

    train_times = first[first < cutoff]
    test_times = first[test_pos.index]
    data = PreferenceData(
        user_id=str(user_ids[0]),
        negatives=negatives,
        cutoff=cutoff,
        train=rows(train_pos, train_neg),
        test=rows(test_pos, test_neg),
        periods={
            "train_from": str(train_times.min()), "train_to": str(train_times.max()),
            "test_from": str(test_times.min()), "test_to": str(test_times.max()),
        },
    )
    check_split(data)
    return data


def check_split(data: PreferenceData) -> None:
    """Fail loudly if train and test share a track or if the positive periods overlap."""
    shared = set(data.train["track_id"]) & set(data.test["track_id"])
    if shared:
        raise AssertionError(f"{len(shared)} tracks are both in train and in test, e.g. {sorted(shared)[:3]}")
    if not pd.Timestamp(data.periods["train_to"]) < data.cutoff <= pd.Timestamp(data.periods["test_from"]):
        raise AssertionError(f"train period {data.periods} overlaps the test period at cutoff {data.cutoff}")


# ---------------------------------------------------------------------------------------- models


def make_booster(seed: int = 42) -> HistGradientBoostingClassifier:
    """Shallow boosted trees with a fixed seed and no early stopping, so reruns give identical metrics."""
    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
    )


def make_baseline() -> Pipeline:
    """Logistic regression on scaled features with one-hot genres: the bar the booster must clear."""
    numeric = [f for f in PREFERENCE_FEATURES if f != "genre_code"]
    prep = ColumnTransformer([
        ("num", StandardScaler(), numeric),
        ("genre", OneHotEncoder(handle_unknown="ignore"), ["genre_code"]),
    ])
    return Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))])


def evaluate(model: BaseEstimator, frame: pd.DataFrame) -> dict[str, Any]:
    """AUC, PR-AUC, Brier score, base rate and the calibration curve of a fitted model on `frame`."""
    y = frame["label"].to_numpy()
    p = model.predict_proba(model_matrix(frame))[:, 1]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "base_rate": float(y.mean()),
        "calibration": {"predicted": prob_pred.tolist(), "observed": prob_true.tolist()},
        "scores": p,
    }


@dataclass
class PreferenceResult:
    """Fitted models and their test metrics for one listener and one negative sampling."""

    data: PreferenceData
    booster: HistGradientBoostingClassifier
    baseline: Pipeline
    booster_eval: dict[str, Any]
    baseline_eval: dict[str, Any]

    def metrics(self) -> dict[str, Any]:
        b, lr = self.booster_eval, self.baseline_eval
        return {
            "auc": round(b["auc"], 4), "pr_auc": round(b["pr_auc"], 4), "brier": round(b["brier"], 4),
            "baseline_auc": round(lr["auc"], 4), "baseline_pr_auc": round(lr["pr_auc"], 4),
            "base_rate": round(b["base_rate"], 4), **self.data.sizes,
        }


def fit_preference(data: PreferenceData, seed: int = 42) -> PreferenceResult:
    """Fit booster and baseline on the train period, evaluate both on the test period."""
    x_train, y_train = model_matrix(data.train), data.train["label"].to_numpy()
    # one OpenMP thread: on a shared 2-core machine more threads spin and run 20-50x slower
    with threadpool_limits(1):
        booster = make_booster(seed).fit(x_train, y_train)
        baseline = make_baseline().fit(x_train, y_train)
        return PreferenceResult(data, booster, baseline, evaluate(booster, data.test), evaluate(baseline, data.test))


def train_listener(
    plays: pd.DataFrame, tracks: pd.DataFrame, seed: int = 42, cutoff: pd.Timestamp | None = None
) -> dict[Negatives, PreferenceResult]:
    """Both negative samplings for one listener, on the same cutoff."""
    cutoff = cutoff if cutoff is not None else choose_cutoff(plays)
    return {
        kind: fit_preference(build_dataset(plays, tracks, kind, cutoff=cutoff, seed=seed), seed=seed)
        for kind in NEGATIVE_KINDS
    }


# -------------------------------------------------------------------------------------- registry


def load_champion(settings: Any, user_id: str) -> HistGradientBoostingClassifier:
    """The listener's champion preference model from the MLflow registry (alias ``champion``).

    Input: :func:`ml.features.model_matrix` of a dim_tracks-shaped frame; ``predict_proba(X)[:, 1]``
    is the preference score.
    """
    import mlflow.sklearn

    from ml.tracking import configure

    configure(settings)
    return mlflow.sklearn.load_model(f"models:/{model_name(user_id)}@champion")
