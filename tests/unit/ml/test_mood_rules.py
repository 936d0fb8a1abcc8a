"""The mood quadrant in Python must equal the dbt macro's, with the thresholds read from dbt_project.yml."""

from __future__ import annotations

import pandas as pd
import yaml

from ml.mood_rules import DBT_PROJECT, Thresholds, mood_quadrant, thresholds


def test_thresholds_come_from_dbt_vars() -> None:
    variables = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    assert thresholds() == Thresholds(variables["mood_valence_threshold"], variables["mood_energy_threshold"])


def test_quadrants_follow_the_macro_including_edges_and_nulls() -> None:
    valence = pd.Series([0.5, 0.5, 0.49, 0.49, None, 0.9])
    energy = pd.Series([0.5, 0.49, 0.5, 0.2, 0.7, None])
    got = mood_quadrant(valence, energy, Thresholds(0.5, 0.5)).tolist()
    assert got == ["happy_energetic", "calm_content", "tense_angry", "sad_low", None, None]


def test_other_thresholds_move_the_boundary() -> None:
    got = mood_quadrant(pd.Series([0.55]), pd.Series([0.55]), Thresholds(0.6, 0.6)).tolist()
    assert got == ["sad_low"]
