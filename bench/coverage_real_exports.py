"""Track-level coverage of two REAL Spotify exports before and after loading the 2024 genre pull.

The exports (../shared/data/history_extended_efrrowini, history_account_lukaszamora) and the bundled
catalogs (TidyTuesday + Kaggle 114k) go through the real engine: ingest into a MOODLAKE_HOME, dbt up to
gold.mart_listening_coverage. Then ../shared/data/catalog_genre_pull_2024 (the folder, as
`moodlake ingest catalog` takes it; tests and development only, never bundled) lands on top and the
ladder is rebuilt (a catalog update needs --full-refresh to rematch). Prints, per listener, the share
of music plays matched at track level (match_level track_id + track_name) and per level, before and
after, plus the timings. About 10 minutes on 2 cores, most of it Spark + dbt.

    .venv/bin/python bench/coverage_real_exports.py [--home DIR] [--json OUT]

--home DIR reuses a home where the exports and the bundled catalogs are already built (its "before"
is what its Gold holds; it then gains the genre pull); without it a throw-away home is built.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "data"
LISTENERS = {  # user id -> (export folder, timezone); the zones follow each export's conn_country / PROVENANCE
    "efrrowini": ("history_extended_efrrowini", "Asia/Kolkata"),
    "lukaszamora": ("history_account_lukaszamora", "America/Chicago"),
}
GENRE_PULL = SHARED / "catalog_genre_pull_2024"
LEVELS = ("track_id", "track_name", "artist", "unknown")
DBT_ARGS = ["build", "--select", "+mart_listening_coverage", "--exclude", "resource_type:test", "resource_type:unit_test"]


def shares(spark: Any) -> dict[str, dict[str, Any]]:
    """Per listener: plays, the play share per match level and at track level (all years)."""
    rows = spark.sql(
        "select user_id, match_level, sum(plays) as plays from gold.mart_listening_coverage "
        f"where user_id in ({', '.join(repr(u) for u in LISTENERS)}) group by user_id, match_level"
    ).collect()
    out: dict[str, dict[str, Any]] = {}
    for user in LISTENERS:
        by_level = {level: 0 for level in LEVELS} | {r["match_level"]: int(r["plays"]) for r in rows if r["user_id"] == user}
        total = sum(by_level.values())
        out[user] = {
            "plays": total,
            "track_level": (by_level["track_id"] + by_level["track_name"]) / total if total else 0.0,
            "by_level": {level: n / total if total else 0.0 for level, n in by_level.items()},
        }
    return out


def dbt(settings: Any, args: list[str]) -> float:
    from moodlake.core.dbt import invoke_dbt

    t0 = time.perf_counter()
    outcome = invoke_dbt(settings, args)
    if not outcome.success:
        failed = [f.unique_id for f in outcome.failures]
        raise SystemExit(f"dbt {' '.join(args)} failed: {outcome.error or failed[:10]}")
    return time.perf_counter() - t0


def run(home: Path, reuse: bool) -> dict[str, Any]:
    os.environ["MOODLAKE_HOME"] = str(home)
    os.environ.pop("MOODLAKE_WAREHOUSE", None)
    from ingestion.catalog import ingest_bundled_catalogs, ingest_catalog_files
    from ingestion.history import ingest_history_paths
    from moodlake.core.settings import load_settings
    from moodlake.core.spark import get_spark

    settings = load_settings(home=home, shuffle_partitions=2)
    spark = get_spark(settings)
    seconds: dict[str, float] = {}
    try:
        if not reuse:
            t0 = time.perf_counter()
            ingest_bundled_catalogs(spark)
            for user, (folder, zone) in LISTENERS.items():
                ingest_history_paths(spark, settings, [SHARED / folder], user=user, timezone=zone)
            seconds["ingest_exports_and_bundled"] = time.perf_counter() - t0
            seconds["dbt_before"] = dbt(settings, [*DBT_ARGS, "--full-refresh"])
        before = shares(spark)
        t0 = time.perf_counter()
        results = ingest_catalog_files(spark, [GENRE_PULL])
        seconds["ingest_genre_pull"] = time.perf_counter() - t0
        seconds["dbt_after"] = dbt(settings, [*DBT_ARGS, "--full-refresh"])
        after = shares(spark)
        landed = {"input_records": sum(r.input_records for r in results), "inserted": sum(r.inserted for r in results),
                  "quarantined": sum(r.quarantined for r in results)}
        return {"home": str(home), "before": before, "after": after, "genre_pull": landed,
                "seconds": {k: round(v, 1) for k, v in seconds.items()}}
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="a home with the exports and bundled catalogs already built")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if not GENRE_PULL.is_dir():
        raise SystemExit(f"{GENRE_PULL} is absent: the genre pull is only in the team checkout (never bundled)")
    home = args.home.resolve() if args.home else Path(tempfile.mkdtemp(prefix="moodlake-coverage-"))
    out = run(home, reuse=args.home is not None)
    for user in LISTENERS:
        b, a = out["before"][user], out["after"][user]
        print(f"{user}: {b['plays']} music plays; track level (track_id + track_name) "
              f"{b['track_level']:.1%} -> {a['track_level']:.1%}")
        for level in LEVELS:
            print(f"  {level:<10} {b['by_level'][level]:6.1%} -> {a['by_level'][level]:6.1%}")
    print(f"genre pull: {out['genre_pull']}")
    print(f"seconds: {out['seconds']}  (home {home})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
