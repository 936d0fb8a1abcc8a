"""Rewrite the ML tests' Gold fixture (tests/fixtures/gold/) with what the REAL pipeline builds.

In a throw-away MOODLAKE_HOME: the real ingest (bundled catalog + DEMO exports, seed 42) and the
real dbt models up to gold.fct_plays, then the columns ml/ reads (ml.frames.read_plays /
read_tracks) are written as zstd Parquet. Run it after a change to the dbt models, the seeds, the
vars or the DEMO generator; tests/integration/ml/test_gold_fixture.py fails until you do.

    .venv/bin/python scripts/refresh_gold_fixture.py [--home DIR] [--skip-build]

Takes a few minutes (Spark + dbt on the whole DEMO history). ``--home DIR`` keeps the build in DIR;
``--skip-build`` re-reads Gold from an earlier ``--home DIR`` build instead of building again.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="MOODLAKE_HOME to build in (default: a temp dir)")
    parser.add_argument("--skip-build", action="store_true", help="read Gold already built in --home")
    args = parser.parse_args()
    if args.skip_build and args.home is None:
        parser.error("--skip-build needs --home (where Gold was built)")
    with tempfile.TemporaryDirectory(prefix="moodlake-gold-fixture-") as tmp:
        home = (args.home or Path(tmp)).resolve()
        home.mkdir(parents=True, exist_ok=True)
        os.environ["MOODLAKE_HOME"] = str(home)
        os.environ.pop("MOODLAKE_WAREHOUSE", None)
        from moodlake.core.settings import load_settings
        from moodlake.core.spark import get_spark
        from tests.support.ml_fixtures import GOLD_FIXTURE, build_demo_gold, gold_frames, write_fixture

        settings = load_settings(home=home, shuffle_partitions=1)
        spark = get_spark(settings)
        try:
            started = time.monotonic()
            if args.skip_build:
                users = sorted(r[0] for r in spark.sql("select distinct user_id from gold.fct_plays").collect())
            else:
                users = build_demo_gold(spark, settings, home / "demo")
            plays, tracks = gold_frames(spark, users)
            sizes = write_fixture(plays, tracks)
        finally:
            spark.stop()
    sys.stdout.write(
        f"{GOLD_FIXTURE.relative_to(REPO)}: {len(plays):,} plays of {', '.join(users)}, {len(tracks):,} tracks; "
        + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items())
        + f" ({time.monotonic() - started:.0f} s)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
