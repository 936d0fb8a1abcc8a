"""Mood model: predict a track's valence x energy quadrant WITHOUT valence and energy as inputs.

The label is Gold's ``mood_quadrant`` column (``gold.dim_tracks``, computed by the dbt macro of the
same name from valence and energy), so feeding either of them in would "predict" the definition. The inputs are the
other audio features plus popularity and genre (:data:`ml.features.MOOD_FEATURES`). It is trained
on the public catalog (not on a listener's Spotify data) and judged by macro-F1 against always
predicting the majority class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ml.features import MOOD_FEATURES, model_matrix
from moodlake.core.vocabulary import quadrant_names

MODEL_NAME = "moodlake-mood"
LEAKING = ("valence", "energy")
#: The label column, as dbt writes it on gold.dim_tracks (and gold.fct_plays).
LABEL = "mood_quadrant"


@dataclass
class MoodResult:
    model: HistGradientBoostingClassifier
    macro_f1: float
    baseline_macro_f1: float
    confusion: np.ndarray  # rows = true quadrants in the seed's order (quadrant_names()), columns = predicted
    n_train: int
    n_test: int

    def metrics(self) -> dict[str, float | int]:
        return {"macro_f1": round(self.macro_f1, 4), "baseline_macro_f1": round(self.baseline_macro_f1, 4),
                "n_train": self.n_train, "n_test": self.n_test}


def mood_inputs(tracks: pd.DataFrame) -> pd.DataFrame:
    """The model matrix; refuses to build one that contains a label-defining feature."""
    x = model_matrix(tracks, MOOD_FEATURES)
    leaked = [c for c in x.columns if c in LEAKING]
    if leaked:
        raise AssertionError(f"mood model inputs must not include {leaked}")
    return x


def fit_mood(tracks: pd.DataFrame, seed: int = 42, test_size: float = 0.25) -> MoodResult:
    """Stratified split of catalog tracks; boosted trees vs the majority-class baseline.

    ``tracks`` are dim_tracks rows with the Gold ``mood_quadrant`` label (``ml.frames.read_tracks``).
    """
    if LABEL not in tracks:
        raise KeyError(f"the mood model needs Gold's {LABEL!r} column (gold.dim_tracks); got {sorted(tracks.columns)}")
    data = tracks.dropna(subset=[LABEL, *[f for f in MOOD_FEATURES if f != "genre_code"]])
    data = data.sort_values("track_id")  # same split whatever order the rows arrived in
    y = data[LABEL].astype(str).to_numpy()
    x = mood_inputs(data)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.08, max_leaf_nodes=31, early_stopping=False, random_state=seed,
            class_weight="balanced",
        ).fit(x_train, y_train)
        pred = model.predict(x_test)
    baseline = DummyClassifier(strategy="most_frequent").fit(x_train, y_train).predict(x_test)
    return MoodResult(
        model=model,
        macro_f1=float(f1_score(y_test, pred, average="macro")),
        baseline_macro_f1=float(f1_score(y_test, baseline, average="macro")),
        confusion=confusion_matrix(y_test, pred, labels=list(quadrant_names())),
        n_train=len(x_train),
        n_test=len(x_test),
    )
