"""The project's one vocabulary: audio features, mood quadrants and dayparts, read from the dbt project.

dbt owns the definitions (``dbt_project.yml`` vars and the seeds); Python reads them here, once, so
a model, a test or a benchmark never carries a second copy that could drift from what dbt builds:

* audio features: vars ``audio_unit_features`` (the [0, 1] ones) and ``audio_scaled_features``
  (loudness, tempo), which the dbt macros ``unit_features()`` / ``audio_features()`` return too;
* mood quadrants: vars ``mood_valence_threshold`` / ``mood_energy_threshold`` (the ``mood_quadrant``
  macro's thresholds) and the seed ``mood_quadrant_labels.csv`` (codes, labels, sides);
* dayparts: the seed ``dayparts.csv`` (listener-local hour -> daypart, with its order).

Every reader is cached; a missing file or key is an error naming the file and the key.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from moodlake.core.errors import MoodlakeError
from moodlake.core.paths import DBT_PROJECT, SEEDS_DIR

#: The dbt vars that hold the feature lists (macros/audio_features.sql reads the same two).
UNIT_FEATURES_VAR = "audio_unit_features"
SCALED_FEATURES_VAR = "audio_scaled_features"
MOOD_LABELS_SEED = SEEDS_DIR / "mood_quadrant_labels.csv"
DAYPARTS_SEED = SEEDS_DIR / "dayparts.csv"


class VocabularyError(MoodlakeError):
    """The dbt project lacks (or garbles) a definition the Python side needs."""


@dataclass(frozen=True)
class MoodQuadrant:
    """One quadrant of the valence x energy plane, as the seed describes it."""

    name: str
    label: str
    valence_side: str  # "high" (valence >= threshold) or "low"
    energy_side: str


@dataclass(frozen=True)
class Daypart:
    """A part of the listener-local day: its name, sort order and the local hours it covers."""

    name: str
    order: int
    hours: tuple[int, ...]


@dataclass(frozen=True)
class MoodThresholds:
    valence: float
    energy: float


@cache
def project_vars(path: Path = DBT_PROJECT) -> dict[str, Any]:
    """The ``vars:`` mapping of dbt_project.yml."""
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise VocabularyError(f"{path}: cannot read the dbt project: {exc}") from exc
    variables = project.get("vars") if isinstance(project, dict) else None
    if not isinstance(variables, dict):
        raise VocabularyError(f"{path}: no 'vars' mapping")
    return variables


def project_var(name: str, path: Path = DBT_PROJECT) -> Any:
    """One dbt var; missing is an error naming the file and the key, never a silent default."""
    variables = project_vars(path)
    if name not in variables:
        raise VocabularyError(f"{path}: vars.{name} is missing")
    return variables[name]


def _names(name: str, path: Path) -> tuple[str, ...]:
    value = project_var(name, path)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise VocabularyError(f"{path}: vars.{name} must be a non-empty list of column names, got {value!r}")
    return tuple(value)


@cache
def unit_features(path: Path = DBT_PROJECT) -> tuple[str, ...]:
    """Audio features in [0, 1] (comparable with a Euclidean distance), in the project's order."""
    return _names(UNIT_FEATURES_VAR, path)


@cache
def scaled_features(path: Path = DBT_PROJECT) -> tuple[str, ...]:
    """Audio features with their own scales (loudness in dB, tempo in BPM)."""
    return _names(SCALED_FEATURES_VAR, path)


@cache
def audio_features(path: Path = DBT_PROJECT) -> tuple[str, ...]:
    """Every audio feature as a Gold column: the unit features, then the scaled ones."""
    features = unit_features(path) + scaled_features(path)
    if len(set(features)) != len(features):
        raise VocabularyError(f"{path}: vars.{UNIT_FEATURES_VAR} and vars.{SCALED_FEATURES_VAR} overlap: {features}")
    return features


@cache
def mood_thresholds(path: Path = DBT_PROJECT) -> MoodThresholds:
    """The ``mood_quadrant`` macro's thresholds (vars mood_valence_threshold / mood_energy_threshold)."""
    values = []
    for name in ("mood_valence_threshold", "mood_energy_threshold"):
        raw = project_var(name, path)
        try:
            values.append(float(raw))
        except (TypeError, ValueError) as exc:
            raise VocabularyError(f"{path}: vars.{name} must be a number, got {raw!r}") from exc
    return MoodThresholds(*values)


def _seed_rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise VocabularyError(f"{path}: missing column(s) {', '.join(missing)} (header: {header})")
            rows = list(reader)
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read the seed: {exc}") from exc
    for number, row in enumerate(rows, start=2):
        empty = [c for c in columns if not (row.get(c) or "").strip()]
        if empty:
            raise VocabularyError(f"{path}: line {number} has no {', '.join(empty)}")
    if not rows:
        raise VocabularyError(f"{path}: the seed has no rows")
    return rows


@cache
def mood_quadrants(path: Path = MOOD_LABELS_SEED) -> tuple[MoodQuadrant, ...]:
    """The four quadrants in the seed's order (the order reports and confusion matrices use)."""
    rows = _seed_rows(path, ("mood_quadrant", "label", "valence_side", "energy_side"))
    quadrants = tuple(MoodQuadrant(r["mood_quadrant"], r["label"], r["valence_side"], r["energy_side"]) for r in rows)
    sides = {(q.valence_side, q.energy_side) for q in quadrants}
    if len(quadrants) != 4 or sides != {("high", "high"), ("high", "low"), ("low", "high"), ("low", "low")}:
        raise VocabularyError(f"{path}: expected one quadrant per (valence_side, energy_side) in high/low, got {rows}")
    return quadrants


def quadrant_names(path: Path = MOOD_LABELS_SEED) -> tuple[str, ...]:
    """Quadrant codes exactly as the ``mood_quadrant`` macro writes them."""
    return tuple(q.name for q in mood_quadrants(path))


@cache
def dayparts(path: Path = DAYPARTS_SEED) -> tuple[Daypart, ...]:
    """Dayparts in their order, each with the listener-local hours it covers; every hour 0-23 exactly once."""
    rows = _seed_rows(path, ("local_hour", "daypart", "daypart_order"))
    hours: dict[str, list[int]] = {}
    order: dict[str, int] = {}
    try:
        for row in rows:
            name = row["daypart"].strip()
            hours.setdefault(name, []).append(int(row["local_hour"]))
            rank = int(row["daypart_order"])
            if order.setdefault(name, rank) != rank:
                raise VocabularyError(f"{path}: daypart {name!r} has two daypart_order values")
    except ValueError as exc:
        raise VocabularyError(f"{path}: local_hour and daypart_order must be integers: {exc}") from exc
    covered = sorted(h for hs in hours.values() for h in hs)
    if covered != list(range(24)):
        raise VocabularyError(f"{path}: every local_hour 0-23 must appear exactly once, got {covered}")
    return tuple(Daypart(name, order[name], tuple(sorted(hours[name]))) for name in sorted(order, key=order.__getitem__))


def daypart_names(path: Path = DAYPARTS_SEED) -> tuple[str, ...]:
    """Daypart names in their order (night, morning, ...)."""
    return tuple(part.name for part in dayparts(path))


_CONSTANTS = {
    "UNIT_FEATURES": unit_features,
    "SCALED_FEATURES": scaled_features,
    "AUDIO_FEATURES": audio_features,
    "QUADRANTS": quadrant_names,
    "DAYPARTS": daypart_names,
}


def __getattr__(name: str) -> tuple[str, ...]:
    """``AUDIO_FEATURES``, ``UNIT_FEATURES``, ``SCALED_FEATURES``, ``QUADRANTS``, ``DAYPARTS`` as
    module constants, read on first use (importing this module never reads a file)."""
    if name in _CONSTANTS:
        return _CONSTANTS[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
