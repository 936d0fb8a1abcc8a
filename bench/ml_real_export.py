"""Preference-model AUC on a REAL Spotify export (../shared/data/history_extended_efrrowini).

Reproduces the numbers in bench/ML_RESULTS.md with the same code the `train` stage runs
(ml.preference), on the same input: the export and the TidyTuesday catalog go through the real
engine (ingest into a throw-away MOODLAKE_HOME, dbt up to gold.fct_plays, whose matching uses the
export's track ids, then normalised title + artist), and the models read Gold with
ml.frames.read_plays / read_tracks. A few minutes, most of it Spark + dbt.

    .venv/bin/python bench/ml_real_export.py [--export DIR] [--catalog CSV] [--seeds 10] [--json OUT] [--home DIR]

Prints the sample sizes and, per test share (0.25, 0.5) and negative sampling (plain, matched), the
booster's and the logistic baseline's AUC / PR-AUC for seed 42 and their spread over several seeds
(the real test sets are small, so one seed's AUC is noisy).
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

from ml.preference import build_dataset, choose_cutoff, fit_preference  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
TIMEZONE = "Asia/Kolkata"  # the listener connects from India (conn_country IN, PROVENANCE.md)
USER = "efrrowini"


def gold_inputs(export: Path, catalog: Path, home: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plays, tracks) as the train stage reads them, after the real ingest + dbt in `home`."""
    os.environ["MOODLAKE_HOME"] = str(home)
    os.environ.pop("MOODLAKE_WAREHOUSE", None)
    from ml.frames import read_plays, read_tracks
    from moodlake.core.settings import load_settings
    from moodlake.core.spark import get_spark
    from tests.support.ml_fixtures import land_and_build

    settings = load_settings(home=home, shuffle_partitions=1)
    spark = get_spark(settings)
    try:
        land_and_build(spark, settings, [catalog], [(export, USER, TIMEZONE)])
        return read_plays(spark, user_id=USER), read_tracks(spark)
    finally:
        spark.stop()


def evaluate(plays: pd.DataFrame, tracks: pd.DataFrame, test_share: float, seeds: list[int]) -> list[dict]:
    cutoff = choose_cutoff(plays, test_share)
    rows = []
    for negatives in ("plain", "matched"):
        for seed in seeds:
            try:
                result = fit_preference(build_dataset(plays, tracks, negatives, cutoff=cutoff, seed=seed), seed=seed)
            except ValueError as exc:  # too few positives on one side of the cutoff
                rows.append({"test_share": test_share, "negatives": negatives, "seed": seed, "error": str(exc)})
                continue
            test = result.data.test
            rows.append({"test_share": test_share, "negatives": negatives, "seed": seed, "cutoff": str(cutoff),
                         **result.metrics(), "popularity_only_auc": float(roc_auc_score(test["label"], test["popularity"]))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=SHARED / "history_extended_efrrowini")
    parser.add_argument("--catalog", type=Path, default=SHARED / "catalog_tidytuesday_spotify_songs" / "spotify_songs.csv")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 42, 0, 1, ... for the spread")
    parser.add_argument("--json", type=Path, default=None, help="write every row as JSON here")
    parser.add_argument("--home", type=Path, default=None, help="MOODLAKE_HOME to build in (default: a temp dir)")
    args = parser.parse_args()

    files = sorted(args.export.glob("Streaming_History_Audio_*.json"))
    with tempfile.TemporaryDirectory(prefix="moodlake-bench-ml-") as tmp:
        plays, tracks = gold_inputs(args.export, args.catalog, (args.home or Path(tmp)).resolve())
    meaningful = plays[~plays["is_short_play"]]
    print(f"export: {len(files)} audio files; matched music plays {len(plays):,} "
          f"({meaningful['track_id'].nunique()} tracks played >= 30 s), catalog {len(tracks):,} tracks")
    print(f"played_at {plays['played_at'].min():%Y-%m-%d} .. {plays['played_at'].max():%Y-%m-%d}")

    seeds = [42, *range(args.seeds - 1)]
    rows = []
    for share in (0.25, 0.5):
        rows += evaluate(plays, tracks, share, seeds)
    frame = pd.DataFrame(rows)
    ok = frame[frame.get("error").isna()] if "error" in frame else frame
    for (share, negatives), group in ok.groupby(["test_share", "negatives"]):
        first = group[group["seed"] == 42].iloc[0]
        print(
            f"test share {share:.2f} cutoff {first['cutoff'][:10]} {negatives:>7}: "
            f"n_train {first['n_train']} ({first['n_train_pos']} pos), n_test {first['n_test']} ({first['n_test_pos']} pos) | "
            f"AUC {first['auc']:.3f} (baseline {first['baseline_auc']:.3f}) PR-AUC {first['pr_auc']:.3f} | "
            f"over {len(group)} seeds AUC {group['auc'].mean():.3f} +- {group['auc'].std(ddof=0):.3f} "
            f"[{group['auc'].min():.3f}, {group['auc'].max():.3f}], baseline {group['baseline_auc'].mean():.3f}, "
            f"popularity alone {group['popularity_only_auc'].mean():.3f}"
        )
    if "error" in frame:
        for row in frame[frame["error"].notna()].itertuples():
            print(f"test share {row.test_share} {row.negatives} seed {row.seed}: {row.error}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))


if __name__ == "__main__":
    main()
