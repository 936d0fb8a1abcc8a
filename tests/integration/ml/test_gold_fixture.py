"""The committed Gold fixture (tests/fixtures/gold/) equals what today's ingest + dbt build from the DEMO data.

The unit-lane ML tests and the recommender tests read that fixture instead of running the pipeline;
this test runs the real pipeline once (bundled catalog + DEMO exports, dbt up to gold.fct_plays) in
the session's Spark and compares the columns ml/ reads, row for row. When it fails after a change to
the models, seeds, vars or the DEMO generator, refresh the fixture:

    .venv/bin/python scripts/refresh_gold_fixture.py
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from moodlake.core.vocabulary import quadrant_names
from tests.support.ml_fixtures import build_demo_gold, gold_frames, read_fixture

REFRESH = "the Gold fixture drifted from dbt: run .venv/bin/python scripts/refresh_gold_fixture.py"


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


@pytest.fixture(scope="module")
def built(spark, settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    users = build_demo_gold(spark, settings, tmp_path_factory.mktemp("gold_fixture_demo"))
    plays, tracks = gold_frames(spark, users)
    # other tests of the session may have landed their own small catalogs (tests/support/marts.py); their
    # tracks are not the bundled catalog's and are left out of the comparison
    foreign = {r[0] for r in spark.sql(
        "select distinct track_id from silver.stg_catalog__tracks "
        "where source_file not like '%spotify_songs.csv.gz'").collect()}
    return plays, tracks, foreign


def test_plays_equal_todays_gold(built) -> None:
    plays, _, foreign = built
    fixture, _ = read_fixture()
    if foreign:
        plays = plays[~plays["track_id"].isin(foreign)].reset_index(drop=True)
        fixture = fixture[~fixture["track_id"].isin(foreign)].reset_index(drop=True)
    assert len(fixture) > 10_000 and fixture["user_id"].nunique() == 3
    assert plays.groupby("user_id").size().to_dict() == fixture.groupby("user_id").size().to_dict(), REFRESH
    pd.testing.assert_frame_equal(plays, fixture, check_exact=True, obj=REFRESH)
    assert digest(plays) == digest(fixture)


def test_tracks_equal_todays_gold(built) -> None:
    _, tracks, foreign = built
    fixture = read_fixture()[1]
    tracks = tracks[~tracks["track_id"].isin(foreign)].reset_index(drop=True)
    fixture = fixture[~fixture["track_id"].isin(foreign)].reset_index(drop=True)
    assert len(tracks) == len(fixture), REFRESH
    pd.testing.assert_frame_equal(tracks, fixture, check_exact=True, obj=REFRESH)
    assert digest(tracks) == digest(fixture)
    assert set(fixture["mood_quadrant"].dropna()) == set(quadrant_names())
