"""Recommenders on REAL Spotify exports: recall@k on a time split, per listener, against two baselines.

Reads a Gold dump (parquet of gold.fct_plays with EVERY play, any match level, and gold.dim_tracks,
written by a real ingest + dbt build of the exports and the bundled catalogs) and runs
``ml.rec_eval.evaluate_listeners``: mirror, coach, ALS, hybrid, the taste score alone, the pre-
neighbourhood lists (whole catalog, no taste) and the popularity and artist-familiarity baselines.
No Spark: ALS is fitted in NumPy (``ml.als.fit_als_local``) unless ``--spark`` asks for MLlib.

    .venv/bin/python bench/recs_real_export.py --gold DIR [--holdout 0.2] [--k 20] [--rolling] [--no-demo]
                                               [--spark] [--users a,b] [--methods als,hybrid] [--json OUT]

Prints one Markdown table per listener (the rows of bench/ML_RESULTS.md) and the winner per listener.
The DEMO listeners of the committed Gold fixture (tests/fixtures/gold/) join ALS's training data
unless ``--no-demo``; they are never evaluated here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ml.neighbourhood import LISTENING_COLUMNS  # noqa: E402
from ml.rec_eval import METHODS, evaluate_listeners, evaluate_rolling, pooled, winners  # noqa: E402
from ml.recommend import TRACK_COLUMNS  # noqa: E402
from ml.state import MATCH_FEATURES  # noqa: E402

DEMO_PLAYS = REPO / "tests" / "fixtures" / "gold" / "fct_plays.parquet"


def read_gold(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every export play, recommendable catalog tracks) from the parquet dump, as load_inputs reads them."""
    plays = pd.read_parquet(folder / "fct_plays.parquet")
    if "source" in plays:  # ml.frames.without_api_plays: models never learn from Web API content
        plays = plays[plays["source"].fillna("") != "api"]
    plays = plays.loc[:, [c for c in LISTENING_COLUMNS if c in plays.columns]]
    plays["played_at"] = pd.to_datetime(plays["played_at"])
    tracks = pd.read_parquet(folder / "dim_tracks.parquet")
    tracks = tracks.dropna(subset=list(MATCH_FEATURES)).loc[:, list(TRACK_COLUMNS)].drop_duplicates("track_id")
    return plays.reset_index(drop=True), tracks.reset_index(drop=True)


def coverage(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays, match levels and the share with track-level features per listener (the base of every number)."""
    out = plays.groupby("user_id").agg(plays=("user_id", "size"), artists=("artist_name", "nunique"),
                                       first=("played_at", "min"), last=("played_at", "max"))
    out["track_feature_share"] = plays["valence"].notna().groupby(plays["user_id"]).mean().round(4)
    if "match_level" in plays:
        levels = pd.crosstab(plays["user_id"], plays["match_level"].fillna("unknown"), normalize="index").round(3)
        out = out.join(levels)
    return out


def markdown(results: pd.DataFrame) -> str:
    lines = []
    for user, group in results.groupby("user_id", sort=True):
        first = group.iloc[0]
        lines.append(f"\n**{user}** — cut {pd.Timestamp(first['cutoff']):%Y-%m-%d}, {first['train_plays']:,} train / "
                     f"{first['test_plays']:,} test plays, {first['n_relevant']} relevant new songs "
                     f"(+{first['relevant_outside_catalog']} not recommendable), base: {first['usable_feature_plays']:,} "
                     f"plays with track features ({first['feature_play_share']:.1%}), confidence {first['confidence']}\n")
        lines.append(f"| method | recall@{first['k']} | NDCG@{first['k']} | hits | artist_hit | in_genres | listed |")
        lines.append("|---|---|---|---|---|---|---|")
        for _, r in group.iterrows():
            note = f" ({r['error']})" if r["error"] else ""
            lines.append(f"| {r['method']}{note} | {r['recall']:.3f} | {r['ndcg']:.3f} | {r['hits']} | "
                         f"{r['artist_hit']:.2f} | {r['in_genres']:.2f} | {r['n_recommended']} |")
    return "\n".join(lines)


def pooled_markdown(table: pd.DataFrame, k: int) -> str:
    """Rolling folds pooled per listener: hits over relevant songs of all five folds."""
    lines = []
    for user, group in table.groupby("user_id", sort=True):
        lines.append(f"\n**{user}**, five rolling folds pooled: {group['relevant'].iloc[0]} relevant new songs in all\n")
        lines.append(f"| method | pooled recall@{k} (hits / relevant) | mean recall@{k} | mean NDCG@{k} | artist_hit | "
                     "in_genres | failed folds |")
        lines.append("|---|---|---|---|---|---|---|")
        for _, r in group.iterrows():
            lines.append(f"| {r['method']} | {r['pooled_recall']:.3f} ({r['hits']} / {r['relevant']}) | "
                         f"{r['mean_recall']:.3f} | {r['mean_ndcg']:.3f} | {r['artist_hit']:.2f} | {r['in_genres']:.2f} | "
                         f"{r['failed']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, required=True, help="folder with fct_plays.parquet and dim_tracks.parquet")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--users", default="", help="comma-separated listeners (default: every listener in the dump)")
    parser.add_argument("--no-demo", action="store_true", help="ALS on the real listeners only")
    parser.add_argument("--spark", action="store_true", help="fit ALS with Spark MLlib (one local session)")
    parser.add_argument("--methods", default="", help=f"comma-separated subset of {', '.join(METHODS)}")
    parser.add_argument("--rolling", action="store_true",
                        help="also five rolling-origin folds (cut at 50..90 %% of plays, test on the next 10 %%)")
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()

    start = time.time()
    plays, tracks = read_gold(args.gold)
    users = [u for u in args.users.split(",") if u] or sorted(plays["user_id"].dropna().unique())
    print(f"catalog: {len(tracks):,} recommendable tracks; listeners: {', '.join(users)}")
    print(coverage(plays[plays["user_id"].isin(users)]).to_string())
    extra = None
    if not args.no_demo and DEMO_PLAYS.is_file():
        extra = pd.read_parquet(DEMO_PLAYS)
        extra = extra.loc[:, [c for c in LISTENING_COLUMNS if c in extra.columns]]
        print(f"ALS also learns from {extra['user_id'].nunique()} DEMO listeners ({len(extra):,} plays)")
    spark = None
    if args.spark:  # a throw-away MOODLAKE_HOME: this session only fits ALS, it must not touch a real metastore
        from moodlake.core.settings import load_settings
        from moodlake.core.spark import get_spark

        home = Path(tempfile.mkdtemp(prefix="moodlake-recs-bench-"))
        os.environ["MOODLAKE_HOME"] = str(home)
        os.environ.pop("MOODLAKE_WAREHOUSE", None)
        spark = get_spark(load_settings(home=home, shuffle_partitions=1))
    def progress(message: str) -> None:
        print(f"  {time.time() - start:5.0f} s  {message}", file=sys.stderr)

    methods = tuple(m for m in args.methods.split(",") if m) or METHODS
    rolling = None
    try:
        results = evaluate_listeners(plays, tracks, users, k=args.k, holdout=args.holdout, spark=spark,
                                     extra_listening=extra, progress=progress, methods=methods)
        if args.rolling:
            rolling = evaluate_rolling(plays, tracks, users, k=args.k, spark=spark, extra_listening=extra,
                                       progress=progress, methods=methods)
    finally:
        if spark is not None:
            spark.stop()
    print(markdown(results))
    print(f"\nBest by recall@{args.k} per listener:")
    print(winners(results).to_string(index=False))
    if rolling is not None:
        print(pooled_markdown(pooled(rolling), args.k))
    print(f"\n{time.time() - start:.0f} s, ALS: {'Spark MLlib' if args.spark else 'NumPy (ml.als.fit_als_local)'}")
    if args.json:
        rows = {"split": results.astype({"cutoff": str}).to_dict(orient="records"),
                "rolling": [] if rolling is None else rolling.astype({"cutoff": str}).to_dict(orient="records")}
        args.json.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
