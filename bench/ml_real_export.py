"""Preference-model AUC on REAL Spotify exports: plain and matched AUC beside single-signal baselines.

Reproduces the numbers in bench/ML_RESULTS.md with the same code the `train` stage runs
(ml.preference.train_listener: feature set chosen by rolling-origin validation before the cutoff,
then both negative samplings on the 75 % time split), on the same input: Gold.

* ``--gold DIR``: parquet dumps of gold.fct_plays (ALL plays, every column) and gold.dim_tracks
  (``DIR/fct_plays.parquet``, ``DIR/dim_tracks.parquet``), read with pandas: no Spark, seconds.
  The row filters are those of ml.frames (read_plays / read_history / read_tracks).
* otherwise ``--export DIR`` (and ``--catalog CSV``): the export goes through the real engine
  (ingest into a throw-away MOODLAKE_HOME, dbt up to gold.fct_plays) and Gold is read with Spark.

    .venv/bin/python bench/ml_real_export.py --gold /work/realgold [--users efrrowini,lukaszamora] [--seeds 10] [--json OUT]

Per listener and seed (42, 0, 1, ...) the whole procedure runs: choose the feature set on the
validation windows (50-62.5 % and 62.5-75 % of the plays), fit on the plays before the 75 % cutoff,
score the tracks discovered after it once. Printed per listener: mean +- sd over seeds of the plain
AUC, the matched AUC, and on the same matched test rows popularity alone, artist familiarity alone,
the logistic baseline, the audio-only model of issue 5 and the catalog-provenance signal (how much a
track's catalog of origin alone separates the classes: an artefact to keep in view).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ml.features import FEATURES, PREFERENCE_FEATURE_SETS  # noqa: E402
from ml.frames import CANDIDATE_COLUMNS, HISTORY_COLUMNS, PLAY_COLUMNS  # noqa: E402
from ml.history_features import CatalogContext, History  # noqa: E402
from ml.preference import PreferenceModel, choose_cutoff, make_booster, train_listener  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
TIMEZONE = "Asia/Kolkata"  # efrrowini connects from India (conn_country IN, PROVENANCE.md)
USER = "efrrowini"
MIN_POSITIVES_REPORTED = 10  # matched test positives below which a listener is listed, not scored


def parquet_inputs(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(plays, history, tracks) from parquet dumps of Gold, filtered as ml.frames filters Gold in Spark.

    plays: MODEL_PLAYS (has_audio_features and track_id is not null), history: every play,
    both without API plays (without_api_plays); tracks: SCORABLE_TRACKS (an id, every audio
    feature and popularity), plus ``catalog_names`` for the provenance check.
    """
    fct = pd.read_parquet(folder / "fct_plays.parquet")
    dim = pd.read_parquet(folder / "dim_tracks.parquet")
    if "source" in fct:
        fct = fct[fct["source"].isna() | (fct["source"] != "api")]
    fct = fct.assign(played_at=pd.to_datetime(fct["played_at"]))
    model_plays = fct["has_audio_features"].fillna(False).astype(bool) & fct["track_id"].notna()
    plays = fct.loc[model_plays, list(PLAY_COLUMNS)].reset_index(drop=True)
    history = fct.loc[:, [c for c in HISTORY_COLUMNS if c in fct]].reset_index(drop=True)
    scorable = dim.dropna(subset=["track_id", *FEATURES, "popularity"])
    tracks = scorable.loc[:, [c for c in (*CANDIDATE_COLUMNS, "catalog_names") if c in scorable]].reset_index(drop=True)
    return plays, history, tracks


def spark_inputs(export: Path, catalog: Path, home: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(plays, history, tracks) as the train stage reads them, after the real ingest + dbt in `home`."""
    os.environ["MOODLAKE_HOME"] = str(home)
    os.environ.pop("MOODLAKE_WAREHOUSE", None)
    from ml.frames import read_history, read_plays, read_tracks
    from moodlake.core.settings import load_settings
    from moodlake.core.spark import get_spark
    from tests.support.ml_fixtures import land_and_build

    settings = load_settings(home=home, shuffle_partitions=1)
    spark = get_spark(settings)
    try:
        land_and_build(spark, settings, [catalog], [(export, USER, TIMEZONE)])
        return (read_plays(spark, user_id=USER), read_history(spark, user_id=USER),
                read_tracks(spark, columns=(*CANDIDATE_COLUMNS, "catalog_names")))
    finally:
        spark.stop()


def _auc(y: np.ndarray, score: pd.Series) -> float:
    return float(roc_auc_score(y, score.fillna(0).to_numpy(np.float64)))


def evaluate_listener(plays: pd.DataFrame, history: History, tracks: pd.DataFrame, seeds: list[int]) -> list[dict]:
    """One row per seed: the whole train_listener procedure, its metrics and the baselines on the same rows."""
    cutoff = choose_cutoff(plays)
    rows = []
    for seed in seeds:
        try:
            results, selection = train_listener(plays, tracks, seed=seed, cutoff=cutoff, history=history)
        except ValueError as exc:  # too few positives on one side of the cutoff
            rows.append({"seed": seed, "error": str(exc)})
            continue
        plain, matched = results["plain"], results["matched"]
        test, train = matched.data.test, matched.data.train
        y = test["label"].to_numpy()
        row = {
            "seed": seed, "cutoff": str(cutoff), "feature_set": matched.feature_set,
            "auc": plain.booster_eval["auc"], "auc_matched": matched.booster_eval["auc"],
            "n_pos": int(y.sum()), "n_neg": int(len(y) - y.sum()),
            "n_train_pos": int(train["label"].sum()), "n_pos_plain": plain.data.sizes["n_test_pos"],
            "auc_popularity_only": _auc(y, test["popularity"]),
            "auc_familiarity_only": _auc(y, test["artist_plays"]),
            "auc_logistic": matched.baseline_eval["auc"],
            "auc_plain_popularity_only": _auc(plain.data.test["label"].to_numpy(), plain.data.test["popularity"]),
        }
        if "catalog_names" in test:
            kaggle = test["catalog_names"].map(lambda names: float("kaggle_114k" in list(names)))
            row["auc_provenance_only"] = _auc(y, kaggle)
        # for reference only (never used to choose): every candidate feature set on the same test rows
        for name, features in PREFERENCE_FEATURE_SETS.items():
            model = PreferenceModel(make_booster(seed), features).fit(train, train["label"].to_numpy())
            row[f"test_{name}"] = float(roc_auc_score(y, model.predict_proba(test)[:, 1]))
        row.update({f"val_{k}": v for k, v in (selection.summary()["validation_auc_matched"] if selection else {}).items()})
        rows.append(row)
    return rows


def _spread(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}"


def report(user: str, plays: pd.DataFrame, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    ok = frame[frame["error"].isna()] if "error" in frame else frame
    meaningful = plays[~plays["is_short_play"]]
    print(f"\n== {user}: matched music plays {len(plays):,} ({meaningful['track_id'].nunique()} tracks >= 30 s), "
          f"{plays['played_at'].min():%Y-%m-%d} .. {plays['played_at'].max():%Y-%m-%d}")
    if ok.empty:
        print(f"   no model: {frame['error'].iloc[0]}")
        return
    if ok["n_pos"].mean() < MIN_POSITIVES_REPORTED:
        print(f"   fewer than {MIN_POSITIVES_REPORTED} matched test positives: not scored")
    chosen = ok["feature_set"].value_counts().to_dict()
    print(f"   cutoff {ok['cutoff'].iloc[0][:10]}; feature set chosen on validation windows: {chosen}")
    print(f"   over {len(ok)} seeds: n_pos {ok['n_pos'].mean():.0f}, n_neg {ok['n_neg'].mean():.0f} (matched test), "
          f"{ok['n_train_pos'].mean():.0f} train positives")
    columns = ["auc", "auc_matched", "auc_popularity_only", "auc_familiarity_only", "auc_logistic", "test_audio",
               "auc_provenance_only", "auc_plain_popularity_only"]
    for column in columns:
        if column in ok:
            print(f"   {column:<28} {_spread(ok[column])}  [{ok[column].min():.3f}, {ok[column].max():.3f}]")
    reference = [c for c in ok if c.startswith(("test_", "val_"))]
    print("   reference (not used to choose): " + ", ".join(f"{c} {ok[c].mean():.3f}" for c in reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=None, help="folder with fct_plays.parquet and dim_tracks.parquet")
    parser.add_argument("--users", default=None, help="comma-separated listeners (default: every listener in Gold)")
    parser.add_argument("--export", type=Path, default=SHARED / "history_extended_efrrowini")
    parser.add_argument("--catalog", type=Path, default=SHARED / "catalog_tidytuesday_spotify_songs" / "spotify_songs.csv")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 42, 0, 1, ... for the spread")
    parser.add_argument("--json", type=Path, default=None, help="write every row as JSON here")
    parser.add_argument("--home", type=Path, default=None, help="MOODLAKE_HOME to build in (default: a temp dir)")
    args = parser.parse_args()

    if args.gold is not None:
        plays, history, tracks = parquet_inputs(args.gold)
    else:
        with tempfile.TemporaryDirectory(prefix="moodlake-bench-ml-") as tmp:
            plays, history, tracks = spark_inputs(args.export, args.catalog, (args.home or Path(tmp)).resolve())
    users = args.users.split(",") if args.users else sorted(plays["user_id"].unique())
    print(f"catalog {len(tracks):,} scorable tracks; listeners {', '.join(users)}")
    context = CatalogContext.from_catalog(tracks)
    seeds = [42, *range(args.seeds - 1)]
    everything = []
    for user in users:
        mine = plays[plays["user_id"] == user].reset_index(drop=True)
        past = History.from_plays(history[history["user_id"] == user], tracks, context)
        rows = [{"user_id": user, **row} for row in evaluate_listener(mine, past, tracks, seeds)]
        report(user, mine, rows)
        everything += rows
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1,
                                        default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))


if __name__ == "__main__":
    main()
