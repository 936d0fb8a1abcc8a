"""Gold-shaped demo tables for the recommender tests, built without the upstream dbt models.

The recommender reads ``gold.fct_plays`` and ``gold.dim_tracks``; its tests must not depend on the
whole ingest + dbt pipeline (minutes of Spark on a shared 2-core box), so this helper derives the same
contracted columns from the real generated DEMO exports and the bundled catalog, and writes them as
Delta tables under a schema of the test's choosing. Only columns in docs/CONTRACTS.md are produced.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from ingestion.demo import CATALOG_PATH, generate_demo

FEATURES = ("danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness",
            "liveness", "loudness", "tempo")
SESSION_GAP = pd.Timedelta(minutes=20)


def daypart(hour: int) -> str:
    """night 0-5, morning 6-11, afternoon 12-17, evening 18-23 (the dbt seed's boundaries)."""
    return ("night", "morning", "afternoon", "evening")[hour // 6]


def demo_tracks(catalog_path: Path = CATALOG_PATH) -> pd.DataFrame:
    """dim_tracks columns from the catalog CSV: first row per track_id, like int_tracks_deduplicated."""
    raw = pd.read_csv(catalog_path).drop_duplicates("track_id", keep="first")
    tracks = raw.rename(columns={
        "track_artist": "primary_artist_name", "track_popularity": "popularity", "playlist_genre": "primary_genre",
    })
    tracks["popularity"] = tracks["popularity"].astype("int64")
    cols = ["track_id", "track_name", "primary_artist_name", "popularity", "primary_genre", *FEATURES]
    return tracks[cols].dropna(subset=["track_name", "primary_artist_name"]).reset_index(drop=True)


def demo_plays(demo_dir: Path, tracks: pd.DataFrame) -> pd.DataFrame:
    """fct_plays columns for every music play of every demo listener (features joined from tracks)."""
    listeners = json.loads((demo_dir / "listeners.json").read_text())
    frames = []
    for listener in listeners:
        rows = []
        for path in sorted((demo_dir / listener["user_id"]).glob("Streaming_History_Audio_*.json")):
            rows += json.loads(path.read_text())
        raw = pd.DataFrame(rows)
        raw = raw[raw["spotify_track_uri"].notna()].drop_duplicates(["spotify_track_uri", "ts", "ms_played"])
        ended = pd.to_datetime(raw["ts"], utc=True)
        played = ended - pd.to_timedelta(raw["ms_played"], unit="ms")
        local = played.dt.tz_convert(ZoneInfo(listener["timezone"]))
        frame = pd.DataFrame({
            "user_id": listener["user_id"],
            "track_id": raw["spotify_track_uri"].str.removeprefix("spotify:track:"),
            "track_name": raw["master_metadata_track_name"],
            "artist_name": raw["master_metadata_album_artist_name"],
            "played_at": played.dt.tz_localize(None),
            "ms_played": raw["ms_played"].astype("int64"),
            "is_skipped": raw["skipped"].astype(bool),
            "is_short_play": raw["ms_played"] < 30_000,
            "local_date": local.dt.date,
            "local_hour": local.dt.hour.astype("int32"),
            "local_weekday": (local.dt.weekday + 1).astype("int32"),
        }).sort_values("played_at").reset_index(drop=True)
        frame["daypart"] = frame["local_hour"].map(daypart)
        new_session = frame["played_at"].diff().fillna(SESSION_GAP * 2) > SESSION_GAP
        frame["session_id"] = listener["user_id"] + "-" + new_session.cumsum().astype(str)
        frame["play_id"] = listener["user_id"] + "-" + frame.index.astype(str)
        frames.append(frame)
    plays = pd.concat(frames, ignore_index=True)
    feats = tracks[["track_id", "primary_genre", "popularity", *FEATURES]].rename(columns={"primary_genre": "genre"})
    plays = plays.merge(feats, on="track_id", how="left")
    plays["has_audio_features"] = plays["valence"].notna()
    return plays


def write_demo_gold(spark, schema: str, demo_dir: Path) -> tuple[str, str]:
    """Generate the demo (seed 42) and write `<schema>.fct_plays` and `<schema>.dim_tracks` as Delta."""
    generate_demo(demo_dir, seed=42)
    tracks = demo_tracks()
    plays = demo_plays(demo_dir, tracks)
    spark.sql(f"create schema if not exists {schema}")
    for name, frame in (("dim_tracks", tracks), ("fct_plays", plays)):
        spark.createDataFrame(frame).write.format("delta").mode("overwrite").option(
            "overwriteSchema", "true").saveAsTable(f"{schema}.{name}")
    return f"{schema}.fct_plays", f"{schema}.dim_tracks"
