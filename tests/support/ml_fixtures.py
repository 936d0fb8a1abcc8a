"""The ML tests' Gold: a small committed copy of what the REAL pipeline builds from the DEMO data.

``tests/fixtures/gold/fct_plays.parquet`` and ``dim_tracks.parquet`` hold the columns ml/ reads
(``ml.frames.PLAY_COLUMNS`` / ``TRACK_COLUMNS``) of ``gold.fct_plays`` and ``gold.dim_tracks`` after
ingest + dbt on the DEMO exports (seed 42) and the bundled catalog. The unit lane reads them with
pandas (no JVM); ``scripts/refresh_gold_fixture.py`` rewrites them and
``tests/integration/ml/test_gold_fixture.py`` proves they still equal what today's dbt builds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from moodlake.core.paths import BUNDLED_CATALOG, REPO_ROOT

GOLD_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "gold"
PLAYS_FIXTURE = GOLD_FIXTURE / "fct_plays.parquet"
TRACKS_FIXTURE = GOLD_FIXTURE / "dim_tracks.parquet"
DEMO_SEED = 42
#: Only the models the ML columns depend on (seeds, staging, intermediate, dim_tracks, fct_plays).
DBT_ARGS = ["build", "--select", "+fct_plays", "--exclude", "resource_type:test", "resource_type:unit_test", "--full-refresh"]


def land_and_build(spark: Any, settings: Any, catalogs: list[Path], histories: list[tuple[Path, str, str]]) -> None:
    """The real ingest of catalog files and (folder, user_id, timezone) histories, then dbt up to fct_plays.

    The same calls as `moodlake run`'s ingest and transform stages, narrowed to the models ml/ reads.
    """
    from ingestion.catalog import ingest_catalog_files
    from ingestion.history import ingest_history_paths
    from moodlake.core.dbt import invoke_dbt

    ingest_catalog_files(spark, catalogs)
    for folder, user_id, timezone in histories:
        ingest_history_paths(spark, settings, [folder], user=user_id, timezone=timezone)
    outcome = invoke_dbt(settings, DBT_ARGS)
    if not outcome.success:
        failed = [k for k, v in outcome.statuses.items() if v not in ("success", "pass")]
        raise RuntimeError(f"dbt {' '.join(DBT_ARGS)} failed: {outcome.error or failed[:10]}")


def build_demo_gold(spark: Any, settings: Any, demo_dir: Path) -> list[str]:
    """Gold from the bundled catalog and the generated DEMO histories (seed 42); the listeners."""
    from ingestion.demo import generate_demo

    generate_demo(demo_dir, seed=DEMO_SEED)
    listeners = json.loads((demo_dir / "listeners.json").read_text())
    land_and_build(spark, settings, [BUNDLED_CATALOG],
                   [(demo_dir / item["user_id"], item["user_id"], item["timezone"]) for item in listeners])
    return [item["user_id"] for item in listeners]


def canonical_plays(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixture order and types, whichever way the frame was read (Spark or Parquet)."""
    from ml.frames import PLAY_COLUMNS

    out = frame.loc[:, list(PLAY_COLUMNS)].sort_values(["user_id", "played_at", "play_id"]).reset_index(drop=True)
    out["played_at"] = pd.to_datetime(out["played_at"]).astype("datetime64[ns]")
    out["local_date"] = pd.to_datetime(out["local_date"]).dt.date
    return out


def canonical_tracks(frame: pd.DataFrame) -> pd.DataFrame:
    from ml.frames import TRACK_COLUMNS

    return frame.loc[:, list(TRACK_COLUMNS)].sort_values("track_id").reset_index(drop=True)


def gold_frames(spark: Any, users: list[str], plays_table: str = "gold.fct_plays",
                tracks_table: str = "gold.dim_tracks") -> tuple[pd.DataFrame, pd.DataFrame]:
    """What ml/ reads from Gold (read_plays / read_tracks), for these listeners, in fixture form."""
    from ml.frames import read_plays, read_tracks

    plays = read_plays(spark, plays_table)
    return canonical_plays(plays[plays["user_id"].isin(users)]), canonical_tracks(read_tracks(spark, tracks_table))


def write_fixture(plays: pd.DataFrame, tracks: pd.DataFrame, folder: Path = GOLD_FIXTURE) -> dict[str, int]:
    """Parquet (zstd) files of the fixture; returns their sizes in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, frame in (("fct_plays", canonical_plays(plays)), ("dim_tracks", canonical_tracks(tracks))):
        path = folder / f"{name}.parquet"
        frame.to_parquet(path, engine="pyarrow", compression="zstd", compression_level=19, index=False)
        sizes[path.name] = path.stat().st_size
    return sizes


def read_fixture(folder: Path = GOLD_FIXTURE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plays, tracks) of the committed fixture, as ml/ would read them from Gold."""
    missing = [p for p in (folder / "fct_plays.parquet", folder / "dim_tracks.parquet") if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"Gold fixture missing: {missing}; run .venv/bin/python scripts/refresh_gold_fixture.py")
    plays = pd.read_parquet(folder / "fct_plays.parquet")
    tracks = pd.read_parquet(folder / "dim_tracks.parquet")
    return canonical_plays(plays), canonical_tracks(tracks)


@pytest.fixture(scope="session")
def gold_fixture() -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_fixture()


@pytest.fixture(scope="session")
def ml_tracks(gold_fixture) -> pd.DataFrame:
    """gold.dim_tracks rows ml/ reads (read_tracks), from the committed fixture."""
    return gold_fixture[1]


@pytest.fixture(scope="session")
def ml_plays(gold_fixture) -> dict[str, pd.DataFrame]:
    """listener -> gold.fct_plays rows ml/ reads (read_plays) of the three DEMO listeners."""
    plays = gold_fixture[0]
    return {user: frame.reset_index(drop=True) for user, frame in plays.groupby("user_id", sort=True)}
