"""Mood quadrants on the valence x energy plane, with the thresholds dbt uses.

The thresholds live once, as dbt vars in ``dbt_project.yml`` (``mood_valence_threshold``,
``mood_energy_threshold``); the ``mood_quadrant`` macro and this module both read them, so a play's
quadrant in Gold and the mood model's label can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from moodlake.core.paths import DBT_PROJECT

#: Quadrant names exactly as the dbt macro writes them.
QUADRANTS: tuple[str, ...] = ("happy_energetic", "calm_content", "tense_angry", "sad_low")


@dataclass(frozen=True)
class Thresholds:
    valence: float
    energy: float


@cache
def thresholds(path: Path = DBT_PROJECT) -> Thresholds:
    """Read the two vars from dbt_project.yml; a missing var is an error, not a silent default."""
    try:
        project = yaml.safe_load(path.read_text())
        variables = project["vars"]
        return Thresholds(float(variables["mood_valence_threshold"]), float(variables["mood_energy_threshold"]))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise RuntimeError(f"{path}: vars.mood_valence_threshold / vars.mood_energy_threshold unreadable: {exc}") from exc


def mood_quadrant(valence: pd.Series, energy: pd.Series, limits: Thresholds | None = None) -> pd.Series:
    """Vectorised twin of the dbt ``mood_quadrant`` macro (null in, null out)."""
    limits = limits or thresholds()
    high_v = valence >= limits.valence
    high_e = energy >= limits.energy
    out = np.select(
        [high_v & high_e, high_v, high_e],
        ["happy_energetic", "calm_content", "tense_angry"],
        default="sad_low",
    )
    result = pd.Series(out, index=valence.index, dtype="object")
    result[valence.isna() | energy.isna()] = None
    return result
