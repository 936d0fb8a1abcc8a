"""Listening modes: k by silhouette, names in words, assignment to plays, sessions and time cells."""

from __future__ import annotations

import numpy as np

from ml.modes import K_RANGE, assign_modes, fit_modes, mode_tables, name_modes


def test_k_is_the_best_silhouette_and_names_are_unique_words(ml_plays, ml_tracks) -> None:
    model = fit_modes(ml_plays["demo-noor"], ml_tracks, seed=42)
    assert set(model.curve) == set(K_RANGE)
    assert model.k == max(model.curve, key=model.curve.get)
    assert len(model.names) == model.k == len(set(model.names))
    assert all(name and not any(ch.isdigit() for ch in name) for name in model.names)
    again = fit_modes(ml_plays["demo-noor"], ml_tracks, seed=42)
    assert again.curve == model.curve and again.names == model.names


def test_names_read_from_the_centroid(ml_tracks) -> None:
    import pandas as pd

    centroids = pd.DataFrame([
        {"valence": 0.9, "energy": 0.95, "danceability": 0.7, "tempo": 120, "loudness": -5, "acousticness": 0.1,
         "instrumentalness": 0.0, "speechiness": 0.05},
        {"valence": 0.4, "energy": 0.15, "danceability": 0.6, "tempo": 118, "loudness": -8, "acousticness": 0.95,
         "instrumentalness": 0.05, "speechiness": 0.05},
    ])
    names = name_modes(centroids, ml_tracks)
    assert names[0].startswith("upbeat") or "high-energy" in names[0]
    assert "calm" in names[1] and "acoustic" in names[1]


def test_tables_cover_plays_sessions_and_weekday_dayparts(ml_plays, ml_tracks) -> None:
    plays = ml_plays["demo-ava"]
    model = fit_modes(plays, ml_tracks, seed=42)
    tables = mode_tables(model, plays, "demo-ava")
    modes = tables["ml_listening_modes"]
    assert modes["share_of_plays"].sum() == np.float64(1.0) or abs(modes["share_of_plays"].sum() - 1) < 1e-9
    assert len(tables["ml_play_modes"]) == len(plays)
    assert set(tables["ml_session_modes"]["session_id"]) == set(plays["session_id"])
    schedule = tables["ml_mode_schedule"]
    assert not schedule.duplicated(["local_weekday", "daypart"]).any()
    # demo-ava commutes on weekday mornings to energetic tracks: that cell's mode is the most energetic one
    monday = schedule[(schedule["weekday_name"] == "Monday") & (schedule["daypart"] == "morning")].iloc[0]
    assert monday["mode_id"] == int(model.centroids["energy"].idxmax())
    catalog_modes = assign_modes(model, ml_tracks.head(100))
    assert catalog_modes.min() >= 0 and catalog_modes.max() < model.k


def test_mllib_engine_gives_a_usable_model(spark, ml_plays, ml_tracks) -> None:
    plays = ml_plays["demo-noor"].sample(600, random_state=0)
    model = fit_modes(plays, ml_tracks, seed=42, spark=spark, engine="mllib")
    assert model.engine == "mllib" and model.k in K_RANGE
    assert len(set(model.names)) == model.k
    labels = assign_modes(model, plays)
    assert set(labels) <= set(range(model.k)) and len(set(labels)) > 1
