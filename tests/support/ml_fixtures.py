"""Fixtures for the ML tests: the DEMO exports and the bundled catalog as Gold-shaped pandas frames.

Built without Spark (ml.frames mirrors the Gold columns), so model tests stay fast; the Spark test
writes these frames to Delta and runs the real stage on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO

DEMO_CATALOG = REPO / "data" / "catalog" / "spotify_songs.csv.gz"


@pytest.fixture(scope="session")
def ml_demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingestion.demo import generate_demo

    out = tmp_path_factory.mktemp("ml_demo_export")
    generate_demo(out, seed=42)
    return out


@pytest.fixture(scope="session")
def ml_tracks() -> pd.DataFrame:
    from ml.frames import catalog_frame

    return catalog_frame(DEMO_CATALOG)


@pytest.fixture(scope="session")
def ml_plays(ml_demo_export: Path, ml_tracks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """listener -> matched plays (fct_plays columns) of the three DEMO listeners."""
    from ml.frames import plays_from_export

    listeners = json.loads((ml_demo_export / "listeners.json").read_text())
    return {
        item["user_id"]: plays_from_export(
            sorted((ml_demo_export / item["user_id"]).glob("Streaming_History_Audio_*.json")),
            ml_tracks, item["user_id"], item["timezone"],
        )
        for item in listeners
    }
