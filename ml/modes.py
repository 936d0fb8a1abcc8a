"""Listening modes: K-means over a listener's plays on scaled audio features, named in words.

Why sklearn by default: one listener's history is 10^3-10^5 plays, which fits in memory, and
sklearn's K-means with ``n_init`` restarts is fast and deterministic for a seed. Above
``MLLIB_MIN_ROWS`` plays (or when asked), :func:`fit_modes` clusters with Spark MLlib instead, so a
long multi-year history never has to be collected to the driver; both return the same
:class:`ModeModel` (a StandardScaler + KMeans pipeline) so assignment and naming are shared.

k is chosen by the silhouette score over k = 2..8 (the whole curve is kept for MLflow). A mode's
name comes from its centroid compared with the catalog: the two audio features that stand out most
("upbeat high-energy", "calm acoustic").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ml.features import MODE_FEATURES

K_RANGE = range(2, 9)
MLLIB_MIN_ROWS = 200_000
SILHOUETTE_SAMPLE = 3000
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# feature -> (word when above the catalog, word when below); order = order of words in a name
ADJECTIVES: dict[str, tuple[str, str]] = {
    "valence": ("upbeat", "melancholic"),
    "energy": ("high-energy", "calm"),
    "danceability": ("danceable", "less danceable"),
    "tempo": ("fast", "slow"),
    "loudness": ("loud", "quiet"),
    "acousticness": ("acoustic", "electronic"),
    "instrumentalness": ("instrumental", "vocal"),
    "speechiness": ("wordy", "sung"),
}


def mode_model_name(user_id: str) -> str:
    """Registered-model name of a listener's mode model."""
    return f"moodlake-modes-{user_id}"


@dataclass
class ModeModel:
    """A fitted mode model: the scaler + K-means pipeline, the names, and how k was chosen."""

    pipeline: Pipeline
    names: list[str]
    k: int
    silhouette: float
    curve: dict[int, float] = field(default_factory=dict)
    engine: str = "sklearn"

    @property
    def centroids(self) -> pd.DataFrame:
        """Centroids in raw feature units (one row per mode_id)."""
        scaler: StandardScaler = self.pipeline.named_steps["scale"]
        km: KMeans = self.pipeline.named_steps["kmeans"]
        raw = scaler.inverse_transform(km.cluster_centers_)
        return pd.DataFrame(raw, columns=list(MODE_FEATURES)).rename_axis("mode_id")


def assign_modes(model: ModeModel | Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """Mode id (0..k-1) of every row of a frame with the audio features (plays or catalog tracks)."""
    pipeline = model.pipeline if isinstance(model, ModeModel) else model
    with threadpool_limits(1):
        return pipeline.predict(frame.loc[:, list(MODE_FEATURES)].astype(np.float64)).astype(int)


def name_modes(centroids: pd.DataFrame, reference: pd.DataFrame) -> list[str]:
    """Words per centroid from the features furthest from the reference (catalog) mean, unique.

    One word always comes from the mood plane (valence or energy, whichever stands out more), one
    from the other features, so names read like "upbeat high-energy" or "calm acoustic". If two
    modes would share a name, the next most distinctive feature is added.
    """
    mean = reference.loc[:, list(ADJECTIVES)].mean()
    std = reference.loc[:, list(ADJECTIVES)].std().replace(0, 1)
    order = list(ADJECTIVES)
    names: list[str] = []
    for _, row in centroids.iterrows():
        z = ((row[order] - mean) / std).astype(float)
        plane = z[["valence", "energy"]].abs().sort_values(ascending=False).index.tolist()
        rest = z.drop(["valence", "energy"]).abs().sort_values(ascending=False).index.tolist()
        ranked = [plane[0], rest[0], *sorted(plane[1:] + rest[1:], key=lambda f: -abs(z[f]))]
        name = ""
        for width in range(2, len(ranked) + 1):
            chosen = sorted(ranked[:width], key=order.index)
            name = " ".join(ADJECTIVES[f][0] if z[f] >= 0 else ADJECTIVES[f][1] for f in chosen)
            if name not in names:
                break
        else:
            name = f"{name} {len(names) + 1}"
        names.append(name)
    return names


def _sklearn_curve(x: np.ndarray, seed: int) -> tuple[dict[int, float], dict[int, KMeans]]:
    curve, models = {}, {}
    for k in K_RANGE:
        km = KMeans(n_clusters=k, n_init=5, random_state=seed).fit(x)
        sample = min(SILHOUETTE_SAMPLE, len(x))
        curve[k] = float(silhouette_score(x, km.labels_, sample_size=sample, random_state=seed))
        models[k] = km
    return curve, models


def _mllib_curve(spark: Any, x: np.ndarray, seed: int) -> tuple[dict[int, float], dict[int, KMeans]]:
    """Same search with Spark MLlib; the winning centres are wrapped in a sklearn KMeans for reuse."""
    from pyspark.ml.clustering import KMeans as SparkKMeans
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.linalg import Vectors

    df = spark.createDataFrame([(Vectors.dense(row),) for row in x.tolist()], ["features"]).cache()
    curve, models = {}, {}
    evaluator = ClusteringEvaluator(featuresCol="features", metricName="silhouette", distanceMeasure="squaredEuclidean")
    for k in K_RANGE:
        fitted = SparkKMeans(k=k, seed=seed, featuresCol="features").fit(df)
        curve[k] = float(evaluator.evaluate(fitted.transform(df)))
        centres = np.array(fitted.clusterCenters())
        km = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=1).fit(centres)
        km.cluster_centers_ = centres
        models[k] = km
    df.unpersist()
    return curve, models


def fit_modes(
    plays: pd.DataFrame,
    reference: pd.DataFrame,
    seed: int = 42,
    spark: Any | None = None,
    engine: str = "auto",
) -> ModeModel:
    """Cluster one listener's meaningful plays (>= 30 s, with features) into listening modes."""
    use = plays[~plays["is_short_play"].astype(bool)].dropna(subset=list(MODE_FEATURES)).sort_values("play_id")
    if len(use) < 50:
        raise ValueError(f"{len(use)} plays with audio features: too few for listening modes (need 50)")
    scaler = StandardScaler().fit(use.loc[:, list(MODE_FEATURES)].astype(np.float64))
    x = scaler.transform(use.loc[:, list(MODE_FEATURES)].astype(np.float64))
    if engine == "auto":
        engine = "mllib" if spark is not None and len(use) >= MLLIB_MIN_ROWS else "sklearn"
    with threadpool_limits(1):
        curve, models = _mllib_curve(spark, x, seed) if engine == "mllib" else _sklearn_curve(x, seed)
    k = max(curve, key=lambda key: (round(curve[key], 6), -key))
    pipeline = Pipeline([("scale", scaler), ("kmeans", models[k])])
    model = ModeModel(pipeline=pipeline, names=[], k=k, silhouette=curve[k], curve=curve, engine=engine)
    model.names = name_modes(model.centroids, reference)
    pipeline.mode_names_ = model.names  # travels with the pickled pipeline into the registry
    return model


# ------------------------------------------------------------------------------------- outputs


def mode_tables(model: ModeModel, plays: pd.DataFrame, user_id: str) -> dict[str, pd.DataFrame]:
    """Gold frames: modes (centroids, shares), play modes, session modes, mode by weekday x daypart."""
    plays = plays.dropna(subset=list(MODE_FEATURES)).copy()
    plays["mode_id"] = assign_modes(model, plays)
    plays["mode_name"] = [model.names[i] for i in plays["mode_id"]]
    counts = plays["mode_id"].value_counts()
    modes = model.centroids.reset_index()
    modes.insert(0, "user_id", user_id)
    modes.insert(2, "mode_name", model.names)
    modes["plays"] = modes["mode_id"].map(counts).fillna(0).astype("int64")
    modes["share_of_plays"] = modes["plays"] / max(len(plays), 1)
    modes["k"] = model.k
    modes["silhouette"] = model.silhouette
    play_modes = plays.loc[:, ["play_id", "user_id", "mode_id", "mode_name"]].reset_index(drop=True)

    by_session = plays.groupby(["session_id", "mode_id"]).size().rename("n").reset_index()
    by_session["plays"] = by_session.groupby("session_id")["n"].transform("sum")
    by_session = by_session.sort_values(["session_id", "n", "mode_id"], ascending=[True, False, True])
    sessions = by_session.drop_duplicates("session_id").reset_index(drop=True)
    sessions = sessions.assign(
        user_id=user_id, mode_name=[model.names[i] for i in sessions["mode_id"]], mode_share=sessions["n"] / sessions["plays"]
    ).loc[:, ["session_id", "user_id", "mode_id", "mode_name", "plays", "mode_share"]]

    cell = plays.groupby(["local_weekday", "daypart", "mode_id"]).size().rename("n").reset_index()
    cell["plays"] = cell.groupby(["local_weekday", "daypart"])["n"].transform("sum")
    cell = cell.sort_values(["local_weekday", "daypart", "n", "mode_id"], ascending=[True, True, False, True])
    schedule = cell.drop_duplicates(["local_weekday", "daypart"]).reset_index(drop=True)
    schedule = schedule.assign(
        user_id=user_id,
        weekday_name=[WEEKDAY_NAMES[int(d) - 1] for d in schedule["local_weekday"]],
        mode_name=[model.names[i] for i in schedule["mode_id"]],
        mode_share=schedule["n"] / schedule["plays"],
    ).loc[:, ["user_id", "local_weekday", "weekday_name", "daypart", "mode_id", "mode_name", "plays", "mode_share"]]
    schedule["local_weekday"] = schedule["local_weekday"].astype("int32")
    return {"ml_listening_modes": modes, "ml_play_modes": play_modes, "ml_session_modes": sessions,
            "ml_mode_schedule": schedule}


def schedule_sentences(schedule: pd.DataFrame, limit: int = 2) -> list[str]:
    """"Your Monday-morning mode is ..." for the clearest weekday x daypart cells (most plays, clear majority)."""
    cells = schedule[(schedule["plays"] >= 20) & (schedule["mode_share"] >= 0.5)]
    cells = cells.sort_values(["mode_share", "plays"], ascending=False).head(limit)
    return [
        f"{row.user_id}: your {row.weekday_name}-{row.daypart} mode is \"{row.mode_name}\" "
        f"({row.mode_share:.0%} of {row.plays} plays)."
        for row in cells.itertuples()
    ]
