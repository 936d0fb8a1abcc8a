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
* **History features as of a moment** (:mod:`ml.history_features`): artist familiarity, genre
  shares of past minutes, taste distance, catalog ubiquity. A test row is described as of the
  cutoff; a train positive as of its discovery (its first play), and each train negative as of the
  discovery of a positive of its own genre x popularity bin (matched) or of any positive (plain),
  so train rows look like test rows ("what did the listener know just before this track was new
  to them?"). No feature ever sees a play at or after its row's moment, nor any play of the track
  itself; the registered champion describes catalog tracks as of the listener's last play.
* **Feature set chosen on earlier windows, never on the test period** (:func:`select_feature_set`):
  rolling-origin validation trains before 50 % (62.5 %) of the plays and scores the matched AUC on
  the window up to 62.5 % (75 %); the test period after the 75 % cutoff is scored once.
* A boosted-tree model (HistGradientBoosting) against a logistic-regression baseline and two
  single-signal baselines (popularity alone, artist familiarity alone), evaluated with AUC, PR-AUC,
  Brier score and a calibration curve.

One model per listener: taste is personal, and the registry holds ``moodlake-preference-<user>``
with the alias ``champion`` (see :func:`load_champion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ml.features import (
    DEFAULT_FEATURE_SET,
    HISTORY_FEATURES,
    PREFERENCE_FEATURE_SETS,
    SINGLE_SIGNALS,
    model_matrix,
)
from ml.history_features import History, history_features

Negatives = Literal["plain", "matched"]
NEGATIVE_KINDS: tuple[Negatives, ...] = ("plain", "matched")
NEGATIVE_RATIO = 4  # negatives per positive, in train and in test
TEST_SHARE = 0.25  # the last quarter of the listening history (by plays) is the test period
POPULARITY_BINS = 20  # matched negatives share genre and popularity ventile with their positive
MIN_POSITIVES = 10  # below this a model (and its AUC) means nothing
#: Rolling-origin validation windows: train before `start`, score the discoveries in [start, end).
#: Shares of the plays before the cutoff; with the cutoff at 75 %: 50-62.5 % and 62.5-75 % of all plays.
VALIDATION_WINDOWS: tuple[tuple[float, float], ...] = ((2 / 3, 5 / 6), (5 / 6, 1.0))
#: Negative draws per validation window: the windows hold few positives, one draw is noisy.
SELECTION_SEEDS = 3
HistoryLike = History | pd.DataFrame | None


def model_name(user_id: str) -> str:
    """Registered-model name of a listener's preference model."""
    return f"moodlake-preference-{user_id}"


def as_history(history: HistoryLike, plays: pd.DataFrame, tracks: pd.DataFrame | None = None) -> History:
    """A :class:`History` from all plays (ml.frames.read_history), or from the matched plays if none given.

    `tracks` (the catalog) adds genres, release years and artist genre profiles; a ready History is
    returned as it is.
    """
    if isinstance(history, History):
        return history
    return History.from_plays(plays if history is None else history, tracks)


# ----------------------------------------------------------------------------------------- split


@dataclass
class PreferenceData:
    """Train and test rows (track + history features, ``as_of``, label) of one listener for one negative sampling."""

    user_id: str
    negatives: Negatives
    cutoff: pd.Timestamp
    train: pd.DataFrame
    test: pd.DataFrame
    periods: dict[str, str] = field(default_factory=dict)
    history: History | None = field(default=None, repr=False)  # what the rows' features were computed from

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


def _pair_moments(negatives: pd.DataFrame, positives: pd.DataFrame, kind: Negatives, rng: np.random.Generator) -> pd.Series:
    """Each train negative's ``as_of``: the discovery moment of a positive it stands against.

    Matched negatives take a positive of their own genre x popularity bin, plain ones any positive,
    so negatives and positives are described at the same moments (same history length).
    """
    moments = pd.Series(pd.NaT, index=negatives.index, dtype="datetime64[ns]")
    if negatives.empty:
        return moments
    groups = [(negatives.index, positives)] if kind == "plain" else [
        (idx, positives[positives["bin"] == bin_id]) for bin_id, idx in negatives.groupby("bin").groups.items()
    ]
    for idx, pos in groups:
        moments.loc[idx] = pos["as_of"].to_numpy()[rng.integers(0, len(pos), size=len(idx))]
    return moments


def build_dataset(
    plays: pd.DataFrame,
    tracks: pd.DataFrame,
    negatives: Negatives = "plain",
    cutoff: pd.Timestamp | None = None,
    seed: int = 42,
    ratio: int = NEGATIVE_RATIO,
    history: HistoryLike = None,
) -> PreferenceData:
    """Time-split positives and sampled catalog negatives for one listener's matched plays.

    `history` is every play of the listener (matched or not, ``ml.frames.read_history``); without
    it the matched `plays` are the history. Rows carry ``HISTORY_FEATURES`` as of their ``as_of``.
    """
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
    # moments: a separate stream, so the sampled tracks are the same as without history features
    train_pos = train_pos.assign(as_of=first[train_pos.index].to_numpy())
    train_neg = train_neg.assign(as_of=_pair_moments(train_neg, train_pos, negatives, np.random.default_rng([seed, 1])))
    test_pos, test_neg = test_pos.assign(as_of=cutoff), test_neg.assign(as_of=cutoff)
    past = as_history(history, plays, tracks)

    def rows(pos: pd.DataFrame, neg: pd.DataFrame) -> pd.DataFrame:
        out = pd.concat([pos.assign(label=1), neg.assign(label=0)], ignore_index=True)
        out["as_of"] = pd.to_datetime(out["as_of"])
        out = pd.concat([out, history_features(past, out, out["as_of"])], axis=1)
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
        history=past,
    )
    check_split(data)
    return data


def check_split(data: PreferenceData) -> None:
    """Fail loudly if train and test share a track, if the positive periods overlap, or if a row looks ahead.

    A test row is described as of the cutoff at the latest, a train row before the cutoff.
    """
    shared = set(data.train["track_id"]) & set(data.test["track_id"])
    if shared:
        raise AssertionError(f"{len(shared)} tracks are both in train and in test, e.g. {sorted(shared)[:3]}")
    if not pd.Timestamp(data.periods["train_to"]) < data.cutoff <= pd.Timestamp(data.periods["test_from"]):
        raise AssertionError(f"train period {data.periods} overlaps the test period at cutoff {data.cutoff}")
    if "as_of" in data.train and not (data.train["as_of"] < data.cutoff).all():
        raise AssertionError("a train row is described as of the cutoff or later")
    if "as_of" in data.test and not (data.test["as_of"] <= data.cutoff).all():
        raise AssertionError("a test row is described after the cutoff")


# ---------------------------------------------------------------------------------------- models


def make_booster(seed: int = 42) -> HistGradientBoostingClassifier:
    """Shallow boosted trees with a fixed seed and no early stopping, so reruns give identical metrics."""
    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
    )


def make_baseline(features: tuple[str, ...] = PREFERENCE_FEATURE_SETS[DEFAULT_FEATURE_SET]) -> Pipeline:
    """Logistic regression on scaled features with one-hot genres: the bar the booster must clear.

    History features are NaN where there is no history (an unknown artist has no "days since"):
    they are imputed with the median plus a missing-indicator column.
    """
    numeric = [f for f in features if f != "genre_code"]
    parts: list[tuple[str, Any, list[str]]] = [
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                              StandardScaler()), numeric),
    ]
    if "genre_code" in features:
        parts.append(("genre", OneHotEncoder(handle_unknown="ignore"), ["genre_code"]))
    return Pipeline([("prep", ColumnTransformer(parts)), ("lr", LogisticRegression(max_iter=2000))])


class PreferenceModel(ClassifierMixin, BaseEstimator):
    """A fitted classifier plus what it needs to score any dim_tracks row on its own.

    ``predict_proba(tracks)`` takes dim_tracks-shaped rows (track_id, primary_artist_name,
    primary_genre, popularity, audio features): history features are computed from the listener's
    plays carried in `history`, as of `as_of` (the scoring moment; default: just after the last
    play). Rows that already carry every feature column are used as they are.
    """

    def __init__(self, estimator: Any, features: tuple[str, ...], history: History | None = None,
                 as_of: pd.Timestamp | None = None) -> None:
        self.estimator = estimator
        self.features = features
        self.history = history
        self.as_of = as_of

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    @property
    def needs_history(self) -> bool:
        return bool(set(self.features) & set(HISTORY_FEATURES))

    def with_history(self, history: History, as_of: pd.Timestamp | None = None) -> PreferenceModel:
        """The same fitted estimator, describing tracks from `history` as of `as_of` (scoring)."""
        if as_of is None and len(history.plays):
            as_of = pd.Timestamp(history.plays["played_at"].max()) + pd.Timedelta(microseconds=1)
        model = PreferenceModel(self.estimator, self.features, history.slim(), as_of)
        model.empty_ = getattr(self, "empty_", ())
        return model

    def matrix(self, tracks: pd.DataFrame) -> pd.DataFrame:
        """The float matrix the estimator sees for these rows (history features computed if absent)."""
        frame = tracks
        if self.needs_history and not set(HISTORY_FEATURES) <= set(tracks.columns):
            if self.history is None or self.as_of is None:
                raise ValueError("this preference model needs the listener's history to score tracks (with_history)")
            frame = pd.concat([tracks, history_features(self.history, tracks, self.as_of)], axis=1)
        x = model_matrix(frame, self.features)
        # a feature the listener's data never has (no album names in an account export) is a
        # constant 0, at fit and at scoring alike: all-NaN columns break the trees' binning
        x.loc[:, list(getattr(self, "empty_", ()))] = 0.0
        return x

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> PreferenceModel:
        """Fit the estimator on the rows' features (``frame`` carries them: PreferenceData rows)."""
        x = model_matrix(frame, self.features)
        self.empty_ = tuple(c for c in x.columns if x[c].isna().all())
        with threadpool_limits(1):
            self.estimator.fit(self.matrix(frame), y)
        return self

    def predict_proba(self, tracks: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(1):
            return self.estimator.predict_proba(self.matrix(tracks))

    def decision_function(self, tracks: pd.DataFrame) -> np.ndarray:
        return self.estimator.decision_function(self.matrix(tracks))

    def predict(self, tracks: pd.DataFrame) -> np.ndarray:
        return self.classes_[(self.predict_proba(tracks)[:, 1] >= 0.5).astype(int)]


def evaluate(model: PreferenceModel, frame: pd.DataFrame) -> dict[str, Any]:
    """AUC, PR-AUC, Brier score, base rate and the calibration curve of a fitted model on `frame`."""
    y = frame["label"].to_numpy()
    p = model.predict_proba(frame)[:, 1]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "base_rate": float(y.mean()),
        "calibration": {"predicted": prob_pred.tolist(), "observed": prob_true.tolist()},
        "scores": p,
    }


def signal_aucs(frame: pd.DataFrame) -> dict[str, float]:
    """AUC of each single signal used raw as the score (no model): the baselines to beat."""
    y = frame["label"].to_numpy()
    out = {}
    for name, column in SINGLE_SIGNALS.items():
        if column in frame and len(set(y)) == 2:
            out[f"auc_{name}_only"] = float(roc_auc_score(y, frame[column].fillna(0).to_numpy(np.float64)))
    return out


@dataclass
class PreferenceResult:
    """Fitted models and their test metrics for one listener and one negative sampling."""

    data: PreferenceData
    booster: PreferenceModel
    baseline: PreferenceModel
    booster_eval: dict[str, Any]
    baseline_eval: dict[str, Any]
    feature_set: str = DEFAULT_FEATURE_SET

    def metrics(self) -> dict[str, Any]:
        b, lr = self.booster_eval, self.baseline_eval
        return {
            "auc": round(b["auc"], 4), "pr_auc": round(b["pr_auc"], 4), "brier": round(b["brier"], 4),
            "baseline_auc": round(lr["auc"], 4), "baseline_pr_auc": round(lr["pr_auc"], 4),
            "base_rate": round(b["base_rate"], 4), **self.data.sizes,
            **{k: round(v, 4) for k, v in signal_aucs(self.data.test).items()},
        }


def fit_preference(data: PreferenceData, seed: int = 42, feature_set: str = DEFAULT_FEATURE_SET) -> PreferenceResult:
    """Fit booster and baseline on the train period, evaluate both on the test period."""
    features = PREFERENCE_FEATURE_SETS[feature_set]
    y_train = data.train["label"].to_numpy()
    # one OpenMP thread: on a shared 2-core machine more threads spin and run 20-50x slower
    booster = PreferenceModel(make_booster(seed), features).fit(data.train, y_train)
    baseline = PreferenceModel(make_baseline(features), features).fit(data.train, y_train)
    return PreferenceResult(data, booster, baseline, evaluate(booster, data.test), evaluate(baseline, data.test),
                            feature_set)


# ------------------------------------------------------------------------------------ selection


@dataclass
class Selection:
    """The feature set chosen on the validation windows, with every candidate's validation AUCs."""

    feature_set: str
    scores: dict[str, list[float]]  # feature set -> matched AUC per (window, seed)
    windows: list[str]  # "start .. end" of each window that had enough positives

    def summary(self) -> dict[str, Any]:
        return {
            "feature_set": self.feature_set,
            "validation_auc_matched": {k: round(float(np.mean(v)), 4) for k, v in self.scores.items() if v},
            "validation_windows": self.windows,
        }


def select_feature_set(
    plays: pd.DataFrame,
    tracks: pd.DataFrame,
    cutoff: pd.Timestamp,
    history: HistoryLike = None,
    seeds: tuple[int, ...] = (42,),
    candidates: tuple[str, ...] = tuple(PREFERENCE_FEATURE_SETS),
    windows: tuple[tuple[float, float], ...] = VALIDATION_WINDOWS,
) -> Selection:
    """Pick the feature set with the best mean matched AUC on rolling-origin windows before `cutoff`.

    Windows are shares of the plays before the cutoff: with the cutoff at 75 % of all plays,
    (2/3, 5/6) and (5/6, 1) are 50-62.5 % and 62.5-75 % of the history. For a window (start, end)
    every play at or after `end` is dropped (the model knows nothing of later windows, let alone
    the test period), `start` is the cutoff and the positives are the tracks discovered in
    [start, end). Windows with too few positives are skipped; with none left the default stands.
    """
    past = as_history(history, plays, tracks)
    played_at = pd.to_datetime(plays["played_at"])
    times = played_at[played_at < cutoff].sort_values().reset_index(drop=True)
    scores: dict[str, list[float]] = {name: [] for name in candidates}
    used = []
    for start_share, end_share in windows:
        if len(times) == 0:
            break
        start = pd.Timestamp(times.iloc[int(len(times) * start_share)])
        end = cutoff if end_share >= 1 else pd.Timestamp(times.iloc[int(len(times) * end_share)])
        for seed in seeds:
            try:
                data = build_dataset(plays[played_at < end], tracks, "matched", cutoff=start, seed=seed,
                                     history=past.before(end))
            except ValueError:  # too few positives in this window
                continue
            if f"{start} .. {end}" not in used:
                used.append(f"{start} .. {end}")
            for name in candidates:
                features = PREFERENCE_FEATURE_SETS[name]
                model = PreferenceModel(make_booster(seed), features).fit(data.train, data.train["label"].to_numpy())
                scores[name].append(float(roc_auc_score(data.test["label"], model.predict_proba(data.test)[:, 1])))
    scored = {k: v for k, v in scores.items() if v}
    best = max(scored, key=lambda k: float(np.mean(scored[k]))) if scored else DEFAULT_FEATURE_SET
    return Selection(best, scores, used)


def train_listener(
    plays: pd.DataFrame,
    tracks: pd.DataFrame,
    seed: int = 42,
    cutoff: pd.Timestamp | None = None,
    history: HistoryLike = None,
    feature_set: str | None = None,
) -> tuple[dict[Negatives, PreferenceResult], Selection | None]:
    """Both negative samplings for one listener, on the same cutoff and feature set.

    Without `feature_set` it is chosen by :func:`select_feature_set` on windows before the cutoff.
    """
    cutoff = cutoff if cutoff is not None else choose_cutoff(plays)
    past = as_history(history, plays, tracks)
    selection = None
    if feature_set is None:
        selection = select_feature_set(plays, tracks, cutoff, past, seeds=tuple(seed + i for i in range(SELECTION_SEEDS)))
        feature_set = selection.feature_set
    results = {
        kind: fit_preference(build_dataset(plays, tracks, kind, cutoff=cutoff, seed=seed, history=past),
                             seed=seed, feature_set=feature_set)
        for kind in NEGATIVE_KINDS
    }
    return results, selection


# -------------------------------------------------------------------------------------- registry


def load_champion(settings: Any, user_id: str) -> PreferenceModel:
    """The listener's champion preference model from the MLflow registry (alias ``champion``).

    Input: dim_tracks-shaped rows (the model carries the listener's history for its history
    features); ``predict_proba(tracks)[:, 1]`` is the preference score.
    """
    import mlflow.sklearn

    from ml.tracking import configure

    configure(settings)
    return mlflow.sklearn.load_model(f"models:/{model_name(user_id)}@champion")
