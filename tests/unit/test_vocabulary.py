"""The one vocabulary: features, mood quadrants and dayparts come from the dbt project, errors name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from moodlake.core import vocabulary as vocab
from moodlake.core.paths import DBT_PROJECT, SEEDS_DIR


def _project(tmp_path: Path, variables: dict) -> Path:
    path = tmp_path / "dbt_project.yml"
    path.write_text(yaml.safe_dump({"name": "x", "vars": variables}))
    return path


def test_features_are_the_dbt_vars_unit_then_scaled() -> None:
    variables = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    unit, scaled = variables[vocab.UNIT_FEATURES_VAR], variables[vocab.SCALED_FEATURES_VAR]
    assert vocab.unit_features() == tuple(unit)
    assert vocab.scaled_features() == tuple(scaled)
    assert vocab.audio_features() == (*unit, *scaled)
    assert vocab.audio_features() == vocab.AUDIO_FEATURES
    assert {"valence", "energy", "loudness", "tempo"} <= set(vocab.AUDIO_FEATURES)


def test_ml_and_the_dbt_macros_use_the_same_list() -> None:
    from ml.features import FEATURES

    assert vocab.audio_features() == FEATURES
    macro = (DBT_PROJECT.parent / "macros" / "audio_features.sql").read_text()
    assert f"var('{vocab.UNIT_FEATURES_VAR}')" in macro and f"var('{vocab.SCALED_FEATURES_VAR}')" in macro


def test_mood_quadrants_follow_the_seed_and_the_macro_thresholds() -> None:
    variables = yaml.safe_load(DBT_PROJECT.read_text())["vars"]
    limits = vocab.mood_thresholds()
    assert (limits.valence, limits.energy) == (variables["mood_valence_threshold"], variables["mood_energy_threshold"])
    assert vocab.quadrant_names() == ("happy_energetic", "calm_content", "tense_angry", "sad_low")
    sides = {q.name: (q.valence_side, q.energy_side) for q in vocab.mood_quadrants()}
    assert sides["happy_energetic"] == ("high", "high") and sides["sad_low"] == ("low", "low")
    assert all(q.label for q in vocab.mood_quadrants())
    macro = (DBT_PROJECT.parent / "macros" / "mood_quadrant.sql").read_text()
    assert all(f"'{name}'" in macro for name in vocab.quadrant_names())


def test_dayparts_cover_each_local_hour_once_in_order() -> None:
    parts = vocab.dayparts()
    assert vocab.daypart_names() == vocab.DAYPARTS == ("night", "morning", "afternoon", "evening")
    assert [p.order for p in parts] == [1, 2, 3, 4]
    assert parts[0].hours == tuple(range(6)) and parts[-1].hours == tuple(range(18, 24))
    assert sorted(h for p in parts for h in p.hours) == list(range(24))


def test_a_missing_var_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = _project(tmp_path, {vocab.UNIT_FEATURES_VAR: ["valence"], "mood_valence_threshold": 0.5})
    with pytest.raises(vocab.VocabularyError, match=rf"{path.name}: vars\.{vocab.SCALED_FEATURES_VAR} is missing"):
        vocab.audio_features(path)
    with pytest.raises(vocab.VocabularyError, match=r"vars\.mood_energy_threshold is missing"):
        vocab.mood_thresholds(path)
    (tmp_path / "other").mkdir()
    bad = _project(tmp_path / "other", {vocab.UNIT_FEATURES_VAR: "valence"})
    with pytest.raises(vocab.VocabularyError, match=rf"vars\.{vocab.UNIT_FEATURES_VAR} must be a non-empty list"):
        vocab.unit_features(bad)


def test_a_missing_file_or_seed_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(vocab.VocabularyError, match=r"nowhere\.yml"):
        vocab.project_vars(tmp_path / "nowhere.yml")
    seed = tmp_path / "dayparts.csv"
    seed.write_text("local_hour,daypart\n0,night\n")
    with pytest.raises(vocab.VocabularyError, match=r"dayparts\.csv: missing column\(s\) daypart_order"):
        vocab.dayparts(seed)
    hours = tmp_path / "hours.csv"
    hours.write_text("local_hour,daypart,daypart_order\n" + "".join(f"{h},day,1\n" for h in range(23)))
    with pytest.raises(vocab.VocabularyError, match="every local_hour 0-23"):
        vocab.dayparts(hours)
    labels = tmp_path / "labels.csv"
    labels.write_text((SEEDS_DIR / "mood_quadrant_labels.csv").read_text().splitlines()[0] + "\n")
    with pytest.raises(vocab.VocabularyError, match=r"labels\.csv: the seed has no rows"):
        vocab.mood_quadrants(labels)


def test_an_unknown_constant_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="FEATURE_LIST"):
        _ = vocab.FEATURE_LIST
