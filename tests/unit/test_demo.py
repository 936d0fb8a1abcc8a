"""Tests of the synthetic DEMO history generator (ingestion/demo.py, demo_personas.py, data/demo/personas.yml); no Spark.

The demo is what a new user sees first, and later stages are tuned against its patterns, so each
pattern the brief promises (determinism, export shape, local-time dayparts, skips, noor's streak,
a learnable taste) is asserted on the generated files, read back the way a loader would.
"""

from __future__ import annotations

import json
import re
import shutil
import time as clock
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingestion.demo import CATALOG_PATH, RECORD_KEYS, export_text, generate_demo, local_to_utc
from ingestion.demo_personas import PERSONAS_PATH, PersonasError, load_personas

TS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
AUDIO_NAME = re.compile(r"^Streaming_History_Audio_(\d{4})_(\d+)\.json$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], float]:
    """One seed-42 run shared by the module: (folder, files returned, seconds taken)."""
    out = tmp_path_factory.mktemp("demo42")
    started = clock.perf_counter()
    files = generate_demo(out, seed=42)
    return out, files, clock.perf_counter() - started


@pytest.fixture(scope="module")
def demo_dir(generated: tuple[Path, list[Path], float]) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def listeners(demo_dir: Path) -> list[dict]:
    return json.loads((demo_dir / "listeners.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    """The catalog read independently of the generator (pandas), one row per track_id.

    Text columns stay text: a track called "NA" or "1999" must not turn into NaN or a number.
    """
    text = {name: str for name in ("track_id", "track_name", "track_artist", "track_album_name")}
    frame = pd.read_csv(CATALOG_PATH, dtype=text, keep_default_na=False, na_values={"track_name": [""]})
    return frame.drop_duplicates("track_id").set_index("track_id")


def audio_records(folder: Path) -> list[dict]:
    """Every record of a listener's audio files, in file order."""
    records: list[dict] = []
    for path in sorted(folder.glob("Streaming_History_Audio_*.json"), key=lambda p: int(p.stem.rsplit("_", 1)[1])):
        records += json.loads(path.read_text(encoding="utf-8"))
    return records


@pytest.fixture(scope="module")
def plays(demo_dir: Path, listeners: list[dict], catalog: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per listener: audio plays with UTC start/end, listener-local start and catalog features."""
    out = {}
    for listener in listeners:
        frame = pd.DataFrame(audio_records(demo_dir / listener["user_id"]))
        frame["end"] = pd.to_datetime(frame["ts"], utc=True)
        frame["start"] = frame["end"] - pd.to_timedelta(frame["ms_played"], unit="ms")
        frame["local"] = frame["start"].dt.tz_convert(listener["timezone"])
        frame["track_id"] = frame["spotify_track_uri"].str.removeprefix("spotify:track:")
        features = ["valence", "energy", "duration_ms", "playlist_genre", "track_popularity"]
        frame = frame.join(catalog[features], on="track_id")
        out[listener["user_id"]] = frame
    return out


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files(demo_dir: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path, seed=42)
    assert tree_bytes(tmp_path) == tree_bytes(demo_dir)


def test_different_seed_gives_different_files_and_no_stale_ones(demo_dir: Path, tmp_path: Path) -> None:
    """Regenerating over an older run with another seed replaces its files; none is left behind."""
    shutil.copytree(demo_dir, tmp_path, dirs_exist_ok=True)
    (tmp_path / "demo-ava" / "Streaming_History_Audio_2026_9.json").write_text("[]", encoding="utf-8")
    files = generate_demo(tmp_path, seed=7)
    ours, theirs = tree_bytes(demo_dir), tree_bytes(tmp_path)
    audio = [name for name in ours if "Streaming_History_Audio" in name]
    assert all(ours[name] != theirs.get(name) for name in audio), "a different seed must change every audio file"
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == set(files)


def test_generation_is_fast(generated: tuple[Path, list[Path], float]) -> None:
    assert generated[2] < 15, f"generation took {generated[2]:.1f} s"


# -------------------------------------------------------------------------------------- file shape


def test_listeners_json_marks_every_listener_as_demo(listeners: list[dict]) -> None:
    from zoneinfo import ZoneInfo

    assert len(listeners) == 3
    for entry in listeners:
        assert list(entry) == ["user_id", "display_name", "timezone", "description", "demo"]
        assert entry["user_id"].startswith("demo-") and entry["demo"] is True
        ZoneInfo(entry["timezone"])  # raises on a name that is not IANA
    assert len({e["timezone"] for e in listeners}) == 3


def test_returned_files_exist_and_follow_spotify_names(generated: tuple[Path, list[Path], float]) -> None:
    out, files, _ = generated
    assert files[0] == out / "listeners.json"
    assert all(p.is_file() for p in files)
    audio = [p for p in files if p.name.startswith("Streaming_History_Audio_")]
    video = [p for p in files if p.name.startswith("Streaming_History_Video_")]
    assert all(AUDIO_NAME.match(p.name) for p in audio)
    assert len(video) == 1 and 0 < len(json.loads(video[0].read_text(encoding="utf-8"))) <= 20
    assert len(audio) + len(video) + 1 == len(files)
    for path in audio:
        records = json.loads(path.read_text(encoding="utf-8"))
        assert 0 < len(records) <= 6100, path.name


def test_files_are_split_by_year(demo_dir: Path, listeners: list[dict]) -> None:
    for listener in listeners:
        for path in (demo_dir / listener["user_id"]).glob("Streaming_History_Audio_*.json"):
            match = AUDIO_NAME.match(path.name)
            assert match
            years = [r["ts"][:4] for r in json.loads(path.read_text(encoding="utf-8"))]
            # an overlapping re-export may carry a few records of the previous year at the start
            assert sum(y != match.group(1) for y in years) <= 20, path.name


def test_every_record_has_the_25_export_keys_in_order(demo_dir: Path, listeners: list[dict]) -> None:
    assert len(RECORD_KEYS) == 25
    for listener in listeners:
        for path in sorted((demo_dir / listener["user_id"]).glob("Streaming_History_*.json")):
            for record in json.loads(path.read_text(encoding="utf-8")):
                assert tuple(record) == RECORD_KEYS, path.name
                assert record["username"] == listener["user_id"]
                assert record["ip_addr"] == "192.0.2.0"


def test_ts_is_utc_second_precision_with_z(demo_dir: Path) -> None:
    for path in sorted(demo_dir.rglob("Streaming_History_*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            assert TS_PATTERN.match(record["ts"]), record["ts"]
            parsed = datetime.fromisoformat(record["ts"])
            assert parsed.utcoffset().total_seconds() == 0


# -------------------------------------------------------------------------------------- personas file

BROKEN_PERSONAS = [
    # (what the broken file says instead, the field path and complaint the error must name)
    ("probability: 0.88,", "probabilty: 0.88,", r"listeners\.0\(demo-ava\)\.slots\.0\.probabilty: Extra inputs"),
    ("probability: 0.88,", "probability: 1.88,", r"listeners\.0\(demo-ava\)\.slots\.0\.probability: .*less than or equal to 1"),
    ("late_probability: 0.97", "late_probability: 9.7", r"listeners\.2\(demo-noor\)\.final_streak\.late_probability"),
    ("  replay_probability: 0.35", "  replay_probabilty: 0.35", r"next_item\.replay_probabilty: Extra inputs"),
    ("{mode: party, days: [sat], probability: 0.4", "{mode: partey, days: [sat], probability: 0.4",
     r"listeners\.1\(demo-ben\)\.slots\.6\.mode: 'partey' is not one of"),
    ('start: ["17:20", "18:10"]', "start: [17:20, 18:10]", r"slots\.2\.start\.0: expected a quoted clock time"),
    ("user_id: demo-noor", "user_id: noor", r"listeners\.2\(noor\)\.user_id: String should match pattern '\^demo-"),
    ("timezone: Europe/Berlin", "timezone: Europe/Berln", r"listeners\.0\(demo-ava\)\.timezone: 'Europe/Berln' is not an IANA"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), BROKEN_PERSONAS)
def test_a_broken_personas_file_is_an_error_naming_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = PERSONAS_PATH.read_text(encoding="utf-8")
    assert old in text, "the bundled personas file changed: update the test's search text"
    broken = tmp_path / "personas.yml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PersonasError, match=message) as caught:
        generate_demo(tmp_path / "out", seed=42, personas=broken)
    assert str(broken) in str(caught.value)
    assert not (tmp_path / "out").exists(), "nothing may be written from an invalid personas file"


def test_an_unreadable_personas_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PersonasError, match="cannot read"):
        load_personas(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("listeners: [unclosed", encoding="utf-8")
    with pytest.raises(PersonasError, match=r"bad\.yml.*line 1"):
        load_personas(tmp_path / "bad.yml")


def test_the_personas_file_drives_the_listeners(tmp_path: Path) -> None:
    """A persona is data: editing the file (here a name, a zone and a schedule) changes the output."""
    edited = PERSONAS_PATH.read_text(encoding="utf-8").replace("Ava (demo)", "Ava B. (demo)")
    path = tmp_path / "personas.yml"
    path.write_text(edited.replace("Europe/Berlin", "Europe/Lisbon"), encoding="utf-8")
    personas = load_personas(path)
    assert [who.user_id for who in personas.listeners] == ["demo-ava", "demo-ben", "demo-noor"]
    assert personas.listeners[0].slots[0].days == (0, 1, 2, 3, 4) and personas.listeners[0].slots[0].start == (425, 470)
    generate_demo(tmp_path / "out", seed=42, personas=path)
    entry = json.loads((tmp_path / "out" / "listeners.json").read_text(encoding="utf-8"))[0]
    assert entry == entry | {"display_name": "Ava B. (demo)", "timezone": "Europe/Lisbon", "demo": True}


def test_export_text_matches_json_indent_two() -> None:
    records = [
        {"ts": "2026-01-01T00:00:00Z", "name": "Café \"Ünïcode\"\n", "n": 3, "ok": True, "none": None},
        {"ts": "2026-01-01T00:01:00Z", "name": "B", "n": -1, "ok": False, "none": None},
    ]
    assert export_text(records) == json.dumps(records, indent=2, ensure_ascii=False)
    assert export_text([]) == json.dumps([], indent=2)


# ------------------------------------------------------------------------------------ content rules


def test_catalog_track_uris_exist_in_catalog(plays: dict[str, pd.DataFrame], catalog: pd.DataFrame) -> None:
    known = set(catalog.index)
    for user_id, frame in plays.items():
        tracks = frame[frame["spotify_track_uri"].notna()]
        assert tracks["spotify_track_uri"].str.fullmatch(r"spotify:track:[0-9A-Za-z]{22}").all()
        made_up = tracks["master_metadata_album_artist_name"].str.startswith("Demo Indie Artist")
        assert tracks.loc[~made_up, "track_id"].isin(known).all(), user_id
        assert not tracks.loc[made_up, "track_id"].isin(known).any(), user_id
        in_catalog = tracks[~made_up]
        names = catalog.loc[in_catalog["track_id"], "track_name"].to_numpy()
        assert (in_catalog["master_metadata_track_name"].to_numpy() == names).all()
        assert 0.01 <= made_up.mean() <= 0.06, f"{user_id}: {made_up.mean():.3f} plays off the catalog"


def test_podcast_rows_are_episodes_without_track_fields(plays: dict[str, pd.DataFrame]) -> None:
    total = sum(len(f) for f in plays.values())
    episodes = pd.concat([f[f["spotify_episode_uri"].notna()] for f in plays.values()])
    assert 0.005 <= len(episodes) / total <= 0.03
    assert episodes["spotify_episode_uri"].str.fullmatch(r"spotify:episode:[0-9A-Za-z]{22}").all()
    assert episodes[["spotify_track_uri", "master_metadata_track_name"]].isna().all().all()
    assert episodes[["episode_name", "episode_show_name"]].notna().all().all()


def test_one_listener_has_20_exact_duplicates_across_files(demo_dir: Path, listeners: list[dict]) -> None:
    counts = {}
    for listener in listeners:
        records = audio_records(demo_dir / listener["user_id"])
        keys = [(r["spotify_track_uri"], r["spotify_episode_uri"], r["ts"], r["ms_played"]) for r in records]
        counts[listener["user_id"]] = len(keys) - len(set(keys))
    assert sorted(counts.values()) == [0, 0, 20], counts


def test_offline_rows_carry_the_start_in_epoch_ms(plays: dict[str, pd.DataFrame]) -> None:
    for user_id, frame in plays.items():
        offline = frame[frame["offline"]]
        assert 0 < len(offline) < 0.1 * len(frame), user_id
        start_ms = offline["start"].astype("int64") // 1_000_000  # ns -> ms
        assert (abs(offline["offline_timestamp"].astype("int64") - start_ms) <= 1000).all()
        assert frame.loc[~frame["offline"], "offline_timestamp"].isna().all()


def test_volume_and_active_days(plays: dict[str, pd.DataFrame]) -> None:
    total = sum(len(f) for f in plays.values())
    assert 20_000 <= total <= 25_000
    for user_id, frame in plays.items():
        per_day = frame.groupby(frame["local"].dt.date).size()
        span = (frame["local"].max().date() - frame["local"].min().date()).days + 1
        assert 20 <= per_day.mean() <= 35, f"{user_id}: {per_day.mean():.1f} plays per active day"
        assert len(per_day) < span, f"{user_id} has no day off"
        assert frame["local"].max().date().isoformat() == "2026-10-31"


def test_sessions_are_back_to_back_with_long_gaps_between(plays: dict[str, pd.DataFrame]) -> None:
    for user_id, frame in plays.items():
        ordered = frame.drop_duplicates(["ts", "spotify_track_uri", "ms_played"]).sort_values("start")
        gaps = (ordered["start"].shift(-1) - ordered["end"]).dt.total_seconds().dropna()
        back_to_back = gaps.between(-1, 6)  # -1: ts is truncated to the second
        assert (back_to_back | (gaps >= 30 * 60)).all(), user_id
        assert 0.8 < back_to_back.mean() < 0.97, user_id


# ---------------------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("timezone", "before", "after", "utc_before", "utc_after"),
    [
        # last Sunday of March 2026 is the 29th: CET (UTC+1) -> CEST (UTC+2)
        ("Europe/Berlin", "2026-03-28T08:00", "2026-03-30T08:00", "2026-03-28T07:00", "2026-03-30T06:00"),
        # second Sunday of March 2026 is the 8th: EST (UTC-5) -> EDT (UTC-4)
        ("America/New_York", "2026-03-07T08:00", "2026-03-09T08:00", "2026-03-07T13:00", "2026-03-09T12:00"),
        # first Sunday of April 2026 is the 5th: AEDT (UTC+11) -> AEST (UTC+10)
        ("Australia/Sydney", "2026-04-04T08:00", "2026-04-06T08:00", "2026-04-03T21:00", "2026-04-05T22:00"),
    ],
)
def test_local_to_utc_across_a_dst_change(
    timezone: str, before: str, after: str, utc_before: str, utc_after: str
) -> None:
    from zoneinfo import ZoneInfo

    for local, expected in ((before, utc_before), (after, utc_after)):
        moment = local_to_utc(datetime.fromisoformat(local), timezone)
        assert moment.tzinfo is UTC and moment.replace(tzinfo=None) == datetime.fromisoformat(expected)
        assert moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) == datetime.fromisoformat(local)


def test_commute_stays_at_the_same_local_hour_across_dst(plays: dict[str, pd.DataFrame]) -> None:
    """demo-ava's first weekday session is at ~07 Berlin time before and after DST; UTC moves an hour."""
    frame = plays["demo-ava"]
    weekday = frame[frame["local"].dt.weekday < 5]
    first = weekday.groupby(weekday["local"].dt.date)[["local", "start"]].min()
    dates = pd.Series(first.index, index=first.index).astype(str)
    winter = first[dates.between("2026-03-02", "2026-03-27")]
    summer = first[dates.between("2026-03-30", "2026-04-24")]
    assert len(winter) > 10 and len(summer) > 10
    assert winter["local"].dt.hour.median() == summer["local"].dt.hour.median() == 7
    assert winter["start"].dt.hour.median() - summer["start"].dt.hour.median() == 1


# ------------------------------------------------------------------------------------------ patterns


def test_weekday_mornings_are_more_energetic_than_late_nights(plays: dict[str, pd.DataFrame]) -> None:
    for user_id, frame in plays.items():
        hour = frame["local"].dt.hour
        morning = frame[(frame["local"].dt.weekday < 5) & hour.between(6, 9)]["energy"].dropna()
        night = frame[(hour >= 22) | (hour < 4)]["energy"].dropna()
        assert len(morning) > 200 and len(night) > 200, user_id
        assert morning.mean() > night.mean() + 0.05, f"{user_id}: {morning.mean():.3f} vs {night.mean():.3f}"


def test_noor_ends_on_a_low_valence_streak(plays: dict[str, pd.DataFrame], catalog: pd.DataFrame) -> None:
    frame = plays["demo-noor"].dropna(subset=["valence"])
    daily = frame.groupby(frame["local"].dt.date.astype(str))["valence"].mean()
    streak = daily[daily.index >= "2026-10-11"]
    assert len(streak) >= 18, "most of the last 21 days must have plays"
    assert (streak < 0.3).all(), streak[streak >= 0.3].to_dict()
    earlier = daily[daily.index < "2026-09-01"]
    assert earlier.mean() > 0.35, "the streak must stand out from her usual listening"
    # room for the coach: calm tracks a little above her recent mean
    recent = streak.mean()
    nudge = catalog[(catalog["valence"] > recent) & (catalog["valence"] <= recent + 0.2) & (catalog["energy"] < 0.5)]
    assert len(nudge) >= 500


def test_ben_evening_valence_dips_over_the_summer(plays: dict[str, pd.DataFrame]) -> None:
    frame = plays["demo-ben"].dropna(subset=["valence"])
    evening = frame[frame["local"].dt.hour.between(19, 21)]
    by_month = evening.groupby(evening["local"].dt.month)["valence"].mean()
    spring, summer, autumn = by_month[[3, 4, 5]].mean(), by_month[[7, 8]].mean(), by_month[[10]].mean()
    assert summer < spring - 0.1 and summer < autumn - 0.1, by_month.round(3).to_dict()


def test_skips_are_short_and_follow_a_bad_fit(plays: dict[str, pd.DataFrame]) -> None:
    for user_id, frame in plays.items():
        music = frame[frame["spotify_track_uri"].notna()]
        skipped = music[music["skipped"]]
        assert 0.1 < len(skipped) / len(music) < 0.4, user_id
        assert (skipped["reason_end"] == "fwdbtn").mean() > 0.7
        assert (skipped["ms_played"] < 30_000).sum() > 100
        assert skipped["ms_played"].mean() < 0.5 * music.loc[~music["skipped"], "ms_played"].mean()
        done = music[music["reason_end"] == "trackdone"].dropna(subset=["duration_ms"])
        assert (done["ms_played"] == done["duration_ms"]).all()
        # in the energetic weekday mornings, the tracks skipped are the less energetic ones
        morning = music[(music["local"].dt.weekday < 5) & music["local"].dt.hour.between(6, 9)].dropna(
            subset=["energy"]
        )
        by_skip = morning.groupby("skipped")["energy"].mean()
        assert by_skip[True] < by_skip[False] - 0.015, f"{user_id}: {by_skip.to_dict()}"  # ~3 standard errors


def matched_negatives(
    positives: pd.DataFrame, pool: pd.DataFrame, rng: np.random.Generator, ratio: int = 2
) -> pd.DataFrame:
    """Unplayed tracks from the same genre and popularity decile as each positive."""
    groups = {key: group.index.to_numpy() for key, group in pool.groupby(["playlist_genre", "band"])}
    picks = []
    for key in zip(positives["playlist_genre"], positives["band"], strict=True):
        candidates = groups.get(key)
        if candidates is not None and len(candidates):
            picks += list(rng.choice(candidates, size=min(ratio, len(candidates)), replace=False))
    return pool.loc[picks]


AUDIO_FEATURES = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                  "instrumentalness", "liveness", "valence", "tempo", "duration_ms"]  # fmt: skip


def new_track_auc(frame: pd.DataFrame, tracks: pd.DataFrame, rng: np.random.Generator) -> tuple[float, int]:
    """(AUC, test positives): train on tracks first played before the 80 % cutoff, test on the rest."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    music = frame[frame["track_id"].isin(tracks.index) & (frame["ms_played"] >= 30_000)]
    first = music.groupby("track_id")["start"].min()
    cutoff = music["start"].sort_values().iloc[int(0.8 * len(music))]
    train_pos, test_pos = tracks.loc[first.index[first < cutoff]], tracks.loc[first.index[first >= cutoff]]
    unplayed = tracks[~tracks.index.isin(set(frame["track_id"].dropna()))]
    train_neg = matched_negatives(train_pos, unplayed, rng)
    test_neg = matched_negatives(test_pos, unplayed.drop(train_neg.index), rng)
    model = HistGradientBoostingClassifier(max_iter=150, random_state=0)
    model.fit(pd.concat([train_pos, train_neg])[AUDIO_FEATURES], [1] * len(train_pos) + [0] * len(train_neg))
    scores = model.predict_proba(pd.concat([test_pos, test_neg])[AUDIO_FEATURES])[:, 1]
    return float(roc_auc_score([1] * len(test_pos) + [0] * len(test_neg), scores)), len(test_pos)


def test_taste_is_learnable_on_a_time_split_with_matched_negatives(
    plays: dict[str, pd.DataFrame], catalog: pd.DataFrame
) -> None:
    """Audio features alone must separate played from unplayed tracks of the same genre and popularity
    decile: AUC >= 0.8 on the tracks discovered after the cutoff (what ml/preference.py relies on)."""
    import sklearn.ensemble  # noqa: F401  (loads its OpenMP runtime, so the limit below applies to it)
    from threadpoolctl import threadpool_limits

    tracks = catalog.assign(band=pd.qcut(catalog["track_popularity"].rank(method="first"), 10, labels=False))
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=1):  # OpenMP threads on a busy machine cost minutes, not seconds
        aucs = {user_id: new_track_auc(frame, tracks, rng) for user_id, frame in plays.items()}
    for user_id, (auc, count) in aucs.items():
        assert count >= 100 and auc >= 0.8, f"{user_id}: AUC {auc:.3f} on {count} new tracks"
