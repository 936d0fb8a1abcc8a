"""Collaborative filtering: implicit-feedback ALS on play counts, audio neighbours for cold tracks.

ALS only knows tracks somebody played; a catalog of ~28k tracks is mostly cold. A cold track borrows
the ALS score of its nearest played neighbours in audio-feature space, and every score is blended
with the track's similarity to the listener's own audio profile, so a never-played track can still
rank when it sounds like what the listener plays. ``evaluate`` compares ALS, the hybrid and a
popularity baseline on time-held-out plays and logs recall@k / NDCG@k to MLflow.

The pipeline fits ALS with Spark MLlib (``fit_als``); ``fit_als_local`` solves the same objective in
NumPy for callers without a Spark session (the unit lane, bench/recs_real_export.py): a handful of
listeners and a few thousand played tracks need no JVM, and the shared 2-core box has none to spare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from ml.state import MATCH_FEATURES

EXPERIMENT = "moodlake-recommender"


@dataclass(frozen=True)
class AlsParams:
    """Implicit-feedback ALS hyper-parameters (Hu, Koren & Volinsky 2008: confidence = 1 + alpha·count)."""

    rank: int = 16
    reg_param: float = 0.05
    alpha: float = 10.0
    max_iter: int = 10
    seed: int = 42


@dataclass
class AlsModel:
    """Factors pulled to the driver: a few listeners × a few thousand tracks fit easily in memory."""

    users: pd.Index
    items: pd.Index
    user_factors: np.ndarray
    item_factors: np.ndarray

    def scores(self, user_id: str) -> pd.Series:
        """Predicted preference of `user_id` for every track any listener played (empty if unknown)."""
        if user_id not in self.users:
            return pd.Series(dtype=float)
        return pd.Series(self.item_factors @ self.user_factors[self.users.get_loc(user_id)], index=self.items)


def play_counts(plays: pd.DataFrame) -> pd.DataFrame:
    """(user_id, track_id, plays): the implicit feedback; skips and short plays are not a vote."""
    keep = plays["track_id"].notna()
    for flag in ("is_skipped", "is_short_play"):
        if flag in plays:
            keep &= ~plays[flag].fillna(False).astype(bool)
    return plays[keep].groupby(["user_id", "track_id"]).size().rename("plays").reset_index()


def fit_als(spark: Any, counts: pd.DataFrame, params: AlsParams | None = None) -> AlsModel:
    """Train ALS (implicitPrefs) on Spark and return the factors."""
    from pyspark.ml.recommendation import ALS

    params = params or AlsParams()
    users = pd.Index(sorted(counts["user_id"].unique()))
    items = pd.Index(sorted(counts["track_id"].unique()))
    ratings = pd.DataFrame({
        "u": users.get_indexer(counts["user_id"]).astype("int32"),
        "i": items.get_indexer(counts["track_id"]).astype("int32"),
        "r": counts["plays"].astype("float32"),
    })
    als = ALS(userCol="u", itemCol="i", ratingCol="r", implicitPrefs=True, rank=params.rank,
              regParam=params.reg_param, alpha=params.alpha, maxIter=params.max_iter, seed=params.seed,
              nonnegative=False, coldStartStrategy="drop")
    model = als.fit(spark.createDataFrame(ratings).repartition(1))
    uf = model.userFactors.toPandas().sort_values("id")
    itf = model.itemFactors.toPandas().sort_values("id")
    user_factors = np.zeros((len(users), params.rank))
    item_factors = np.zeros((len(items), params.rank))
    user_factors[uf["id"].to_numpy()] = np.vstack(uf["features"].to_numpy())
    item_factors[itf["id"].to_numpy()] = np.vstack(itf["features"].to_numpy())
    return AlsModel(users, items, user_factors, item_factors)


def fit_als_local(counts: pd.DataFrame, params: AlsParams | None = None) -> AlsModel:
    """Implicit ALS in NumPy: the objective Spark's ``ALS(implicitPrefs=True)`` minimises.

    Preference p = 1 for every played pair, confidence c = 1 + alpha·plays, and, as in Spark, the
    ridge term of each row is ``reg_param`` times that row's number of played pairs. Alternating exact
    least squares (Hu, Koren & Volinsky 2008, eq. 4): x_u = (YᵀY + Yᵀ(C_u − I)Y + λ n_u I)⁻¹ YᵀC_u p_u.
    Factors differ from Spark's (other random start), the fitted preferences agree in ranking.
    """
    from scipy import sparse

    params = params or AlsParams()
    users = pd.Index(sorted(counts["user_id"].unique()))
    items = pd.Index(sorted(counts["track_id"].unique()))
    matrix = sparse.csr_matrix(
        (counts["plays"].to_numpy(dtype=float), (users.get_indexer(counts["user_id"]), items.get_indexer(counts["track_id"]))),
        shape=(len(users), len(items)))
    rng = np.random.default_rng(params.seed)
    user_factors = rng.normal(0.0, 0.1, (len(users), params.rank))
    item_factors = rng.normal(0.0, 0.1, (len(items), params.rank))
    by_item = matrix.T.tocsr()
    for _ in range(params.max_iter):
        user_factors = _als_half_step(matrix, item_factors, params)
        item_factors = _als_half_step(by_item, user_factors, params)
    return AlsModel(users, items, user_factors, item_factors)


def _als_half_step(matrix: Any, fixed: np.ndarray, params: AlsParams) -> np.ndarray:
    """Solve every row's factors with the other side's factors fixed (one half of an ALS sweep)."""
    gram = fixed.T @ fixed
    eye = np.eye(fixed.shape[1])
    out = np.zeros((matrix.shape[0], fixed.shape[1]))
    for row in range(matrix.shape[0]):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        if lo == hi:
            continue
        cols = matrix.indices[lo:hi]
        conf = 1.0 + params.alpha * matrix.data[lo:hi]
        y = fixed[cols]
        a = gram + (y.T * (conf - 1.0)) @ y + params.reg_param * (hi - lo) * eye
        out[row] = np.linalg.solve(a, y.T @ conf)
    return out


def standardized(frame: pd.DataFrame, scales: pd.Series, means: pd.Series) -> np.ndarray:
    return ((frame[list(MATCH_FEATURES)] - means) / scales).to_numpy()


def hybrid_scores(model: AlsModel, user_id: str, catalog: pd.DataFrame, user_plays: pd.DataFrame,
                  neighbours: int = 10, weight_profile: float = 0.3) -> pd.Series:
    """Collaborative score in [0, 1] for every catalog track (index: track_id).

    Warm tracks use their ALS score; cold tracks the similarity-weighted ALS score of their
    `neighbours` nearest warm tracks (standardized audio features). The ALS part becomes a
    percentile and is blended with the track's closeness to the listener's play-weighted audio profile.
    """
    cat = catalog.dropna(subset=list(MATCH_FEATURES)).drop_duplicates("track_id").set_index("track_id")
    means, scales = cat[list(MATCH_FEATURES)].mean(), cat[list(MATCH_FEATURES)].std().replace(0, 1)
    x = standardized(cat, scales, means)
    als = model.scores(user_id)
    warm = als.index.intersection(cat.index)
    raw = pd.Series(np.nan, index=cat.index)
    if len(warm):
        raw[warm] = als[warm]
        nn = NearestNeighbors(n_neighbors=min(neighbours, len(warm))).fit(x[cat.index.get_indexer(warm)])
        cold = raw.index[raw.isna()]
        if len(cold):
            dist, idx = nn.kneighbors(x[cat.index.get_indexer(cold)])
            weights = 1.0 / (dist + 0.01)  # a near-twin of a played track borrows mostly from its twin
            raw[cold] = (als[warm].to_numpy()[idx] * weights).sum(axis=1) / weights.sum(axis=1)
        collab = raw.rank(pct=True)
    else:
        collab = pd.Series(0.5, index=cat.index)
    profile = user_plays.dropna(subset=list(MATCH_FEATURES))
    if profile.empty:
        return collab
    centre = ((profile[list(MATCH_FEATURES)].mean() - means) / scales).to_numpy()
    closeness = pd.Series(np.exp(-0.5 * ((x - centre) ** 2).mean(axis=1)), index=cat.index)
    return (1 - weight_profile) * collab + weight_profile * closeness


# --------------------------------------------------------------------------------------- evaluation


def temporal_split(plays: pd.DataFrame, holdout: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per listener, the last `holdout` share of their listening time is the test period."""
    cut = plays.groupby("user_id")["played_at"].transform(lambda s: s.quantile(1 - holdout))
    return plays[plays["played_at"] < cut], plays[plays["played_at"] >= cut]


def ranking_metrics(recommended: list[str], relevant: set[str], k: int) -> tuple[float, float]:
    """(recall@k, NDCG@k) with binary relevance; recall = hits / |relevant|."""
    top = recommended[:k]
    hits = [1.0 if t in relevant else 0.0 for t in top]
    recall = sum(hits) / len(relevant) if relevant else 0.0
    dcg = sum(h / np.log2(i + 2) for i, h in enumerate(hits))
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return recall, (dcg / ideal if ideal else 0.0)


def evaluate(spark: Any, plays: pd.DataFrame, catalog: pd.DataFrame, k: int = 20, holdout: float = 0.2,
             params: AlsParams | None = None) -> dict[str, float]:
    """recall@k and NDCG@k of ALS, hybrid and popularity on held-out plays, averaged over listeners.

    Two protocols: ``all`` (every distinct track played in the test period, replays included: what a
    "play it again" list is judged on) and ``new`` (only tracks the listener never played before the
    cut, and recommendations exclude their train tracks: discovery).
    """
    train, test = temporal_split(plays, holdout)
    counts = play_counts(train)
    model = fit_als(spark, counts, params)
    popular = counts.groupby("track_id")["plays"].sum().sort_values(ascending=False)
    popular = popular.sort_index().sort_values(ascending=False, kind="stable")
    test_counts = play_counts(test)
    results: dict[str, list[float]] = {}
    for user in sorted(test_counts["user_id"].unique()):
        seen = set(counts.loc[counts["user_id"] == user, "track_id"])
        held = set(test_counts.loc[test_counts["user_id"] == user, "track_id"])
        als = model.scores(user).sort_values(ascending=False, kind="stable")
        hybrid = hybrid_scores(model, user, catalog, train[train["user_id"] == user]).sort_values(
            ascending=False, kind="stable")
        for protocol, relevant, exclude in (("all", held, set()), ("new", held - seen, seen)):
            if not relevant:
                continue
            for name, ranked in (("als", als), ("hybrid", hybrid), ("popularity", popular)):
                recs = [t for t in ranked.index[: k + len(exclude)] if t not in exclude][:k]
                recall, ndcg = ranking_metrics(recs, relevant, k)
                results.setdefault(f"{name}_recall_at_{k}_{protocol}", []).append(recall)
                results.setdefault(f"{name}_ndcg_at_{k}_{protocol}", []).append(ndcg)
    metrics = {key: round(float(np.mean(vals)), 4) for key, vals in sorted(results.items())}
    metrics.update(train_plays=len(train), test_plays=len(test), listeners=int(test_counts["user_id"].nunique()),
                   warm_tracks=len(model.items))
    return metrics


def log_evaluation(settings: Any, metrics: dict[str, float], params: AlsParams | None = None, k: int = 20) -> str:
    """Log params and metrics to MLflow (settings.mlflow_uri); return the run id."""
    import mlflow

    params = params or AlsParams()
    mlflow.set_tracking_uri(settings.mlflow_uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(EXPERIMENT, artifact_location=settings.mlflow_artifacts.resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name="als-vs-popularity") as run:
        mlflow.log_params({**params.__dict__, "k": k, "split": "temporal, last 20% per listener",
                           "feedback": "non-skipped play counts"})
        mlflow.log_metrics({key: float(v) for key, v in metrics.items()})
        return run.info.run_id
