"""Deterministic generator of SYNTHETIC DEMO listening histories (no real person's data).

`make run` needs listening history to show anything, and we may not ship anyone's real export. This
module invents the listeners described in data/demo/personas.yml ("demo-ava", "demo-ben", "demo-noor")
and writes files shaped exactly like a Spotify "Extended Streaming History" privacy export, so the demo
exercises the same loader, models and dashboards as a real export. Every user_id starts with "demo-"
(enforced when the file is read) and listeners.json marks every listener `"demo": true`.

The personas file holds every habit, schedule, probability, mood arc and preference; this module is
the algorithm: plays are sampled from the bundled public track catalog with listener-local dayparts
(computed in the listener's IANA zone and converted to UTC with zoneinfo, so DST is right), a taste
vector over audio features, replayed favourites, skips that depend on how well a track fits the
moment, seasonal mood drift and a final low-valence streak. A fixed end date (not "today") and a
seeded numpy Generator make the output byte-identical for the same seed and personas file.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from ingestion.demo_personas import (
    PERSONAS_PATH,
    FinalStreak,
    Listener,
    Mode,
    OffCatalog,
    Personas,
    Podcasts,
    Pull,
    Skips,
    Slot,
    TasteModel,
    VideoHistory,
    load_personas,
)
from moodlake.core.paths import BUNDLED_CATALOG
from moodlake.core.vocabulary import audio_features

CATALOG_PATH = BUNDLED_CATALOG

# The export format (Spotify's, not the personas').
MAX_RECORDS_PER_FILE = 6000  # Spotify splits its export files at roughly this size
IP_ADDR = "192.0.2.0"  # RFC 5737 documentation range: never a real address
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

RECORD_KEYS = ("ts", "username", "platform", "ms_played", "conn_country", "ip_addr", "user_agent_decrypted",
               "master_metadata_track_name", "master_metadata_album_artist_name", "master_metadata_album_album_name",
               "spotify_track_uri", "episode_name", "episode_show_name", "spotify_episode_uri", "audiobook_title",
               "audiobook_uri", "audiobook_chapter_uri", "audiobook_chapter_title", "reason_start", "reason_end",
               "shuffle", "skipped", "offline", "offline_timestamp", "incognito_mode")  # fmt: skip

# --------------------------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Catalog:
    """Column arrays of the deduplicated catalog; arrays keep per-play sampling cheap."""

    track_id: list[str]
    track_name: list[str]
    artist: list[str]
    album: list[str]
    genre: np.ndarray
    popularity: np.ndarray
    duration_ms: np.ndarray
    features: dict[str, np.ndarray]
    usable: np.ndarray  # rows with a name and artist: a real export always carries both

    def __len__(self) -> int:
        return len(self.track_id)


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read the TidyTuesday catalog with csv+gzip (no Spark), keeping the first row per track_id.

    The same track appears in several playlists; the first row's genre is as good as any and keeps
    the result independent of anything but the file's order.
    """
    rows: dict[str, dict[str, str]] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for values in reader:
            if values[0] not in rows:  # track_id is the first column
                rows[values[0]] = dict(zip(header, values, strict=True))
    kept = list(rows.values())
    features = {name: np.array([float(r[name]) for r in kept]) for name in audio_features()}
    return Catalog(
        track_id=[r["track_id"] for r in kept],
        track_name=[r["track_name"] for r in kept],
        artist=[r["track_artist"] for r in kept],
        album=[r["track_album_name"] for r in kept],
        genre=np.array([r["playlist_genre"] for r in kept]),
        popularity=np.array([int(r["track_popularity"]) for r in kept]),
        duration_ms=np.array([int(r["duration_ms"]) for r in kept]),
        features=features,
        usable=np.array([bool(r["track_name"] and r["track_artist"]) for r in kept]),
    )


# ------------------------------------------------------------------------------------------- scoring


def pull_score(pulls: tuple[Pull, ...], catalog: Catalog) -> np.ndarray:
    """Sum of the Gaussian log-preferences of every pull, per catalog track (0 = perfect fit)."""
    score = np.zeros(len(catalog))
    for pull in pulls:
        score -= 0.5 * ((catalog.features[pull.feature] - pull.target) / pull.tolerance) ** 2
    return score


def favourite_artists(model: TasteModel, taste: np.ndarray, catalog: Catalog) -> list[str]:
    """The artists whose catalog tracks fit the listener best on average (with enough tracks)."""
    by_artist: dict[str, list[float]] = {}
    for i in np.flatnonzero(catalog.usable):
        by_artist.setdefault(catalog.artist[i], []).append(float(taste[i]))
    ranked = sorted(
        ((float(np.mean(s)), name) for name, s in by_artist.items() if len(s) >= model.favourite_artist_min_tracks),
        key=lambda item: (-item[0], item[1]),
    )
    return [name for _, name in ranked[: model.favourite_artists]]


def taste_score(listener: Listener, model: TasteModel, catalog: Catalog) -> np.ndarray:
    """The listener's stable preference per track: audio features, genres, a little popularity, artists.

    Popularity and genre are part of real taste, but the audio-feature pulls dominate so that played
    tracks differ from unplayed ones of the same genre and popularity band.
    """
    score = pull_score(listener.taste, catalog) + model.popularity_weight * catalog.popularity / 100
    for genre, bonus in listener.genres.items():
        score = score + bonus * (catalog.genre == genre)
    artists = set(favourite_artists(model, score, catalog))
    score = score + model.favourite_artist_bonus * np.array([name in artists for name in catalog.artist])
    return np.where(catalog.usable, score, -np.inf)


@dataclass(frozen=True)
class Distribution:
    """One listener in one mode: each track's fit to the mode and the discovery CDF."""

    mode: Mode
    fit: np.ndarray  # fit to the mode alone (0 = perfect); also drives skips
    cdf: np.ndarray  # cumulative softmax(taste + fit)

    def draw(self, rng: np.random.Generator) -> int:
        """One catalog index, drawn from softmax(taste + mode) by inverse CDF (cheap per play)."""
        return int(np.searchsorted(self.cdf, rng.random() * self.cdf[-1], side="right"))


class Sampler:
    """Discovery distributions of one listener, cached per mode variant (drift makes a few dozen)."""

    def __init__(self, taste: np.ndarray, catalog: Catalog) -> None:
        self.taste = taste
        self.catalog = catalog
        self._cache: dict[Mode, Distribution] = {}

    def distribution(self, mode: Mode) -> Distribution:
        """The (cached) distribution for a mode."""
        if mode not in self._cache:
            fit = pull_score(mode.pulls, self.catalog)
            total = self.taste + fit
            weights = np.exp(total - np.max(total[np.isfinite(total)]))
            self._cache[mode] = Distribution(mode, fit, np.cumsum(weights))
        return self._cache[mode]


# ------------------------------------------------------------------------------------------ identity


def fake_id(rng: np.random.Generator, length: int = 22) -> str:
    """A made-up base62 id shaped like Spotify's, for off-catalog tracks and podcast episodes."""
    return "".join(BASE62[i] for i in rng.integers(0, len(BASE62), size=length))


@dataclass(frozen=True)
class OffCatalogTrack:
    """A track the catalog does not know (so catalog match coverage stays below 100 %)."""

    track_id: str
    name: str
    artist: str
    album: str
    duration_ms: int


def off_catalog_pool(spec: OffCatalog, rng: np.random.Generator, known: set[str]) -> list[OffCatalogTrack]:
    """Made-up indie tracks with names that say they are demo data."""
    pool = []
    for n in range(spec.tracks):
        track_id = fake_id(rng)
        while track_id in known:
            track_id = fake_id(rng)
        artist_no = int(rng.integers(1, spec.artists + 1))
        pool.append(
            OffCatalogTrack(
                track_id=track_id,
                name=f"Demo Song {n + 1}",
                artist=f"Demo Indie Artist {artist_no}",
                album=f"Demo Sessions Vol. {artist_no}",
                duration_ms=int(rng.integers(*spec.duration_ms)),
            )
        )
    return pool


@dataclass(frozen=True)
class Episode:
    """A made-up podcast episode."""

    uri: str
    name: str
    show: str


def podcast_pool(spec: Podcasts, rng: np.random.Generator) -> list[Episode]:
    """A few podcast episodes, so the loader sees episode rows (~1 % of plays)."""
    shows = spec.shows
    return [
        Episode(f"spotify:episode:{fake_id(rng)}", f"Episode {n + 1}: notes from the demo", shows[n % len(shows)])
        for n in range(spec.episodes)
    ]


# ------------------------------------------------------------------------------------------- timing


def local_to_utc(local: datetime, timezone: str) -> datetime:
    """Interpret a naive listener-local time in its IANA zone and convert to UTC (DST-correct)."""
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, in integers (no float rounding)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def format_ts(moment: datetime) -> str:
    """Spotify's `ts` layout: UTC, second precision, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------- play making


@dataclass
class State:
    """Everything that carries over between plays of one listener."""

    rotation: list[int]  # catalog indices of favourites that get replayed
    reason_start: str = "clickrow"
    last_end: datetime | None = None


@dataclass(frozen=True)
class Context:
    """Per-listener constants the play loop needs."""

    cfg: Personas
    listener: Listener
    catalog: Catalog
    sampler: Sampler
    off_catalog: list[OffCatalogTrack]
    episodes: list[Episode]

    def days_to_end(self, day: date) -> int:
        return (self.cfg.end_date - day).days

    def streak(self, day: date) -> FinalStreak | None:
        """The listener's final streak if `day` is inside it (more and longer late nights)."""
        streak = self.listener.final_streak
        return streak if streak is not None and self.days_to_end(day) < streak.days else None


def adjust_mode(ctx: Context, name: str, day: date) -> Mode:
    """The mode `name` with the listener's slow mood drift applied on a given local day."""
    mode = ctx.cfg.modes[name]
    for drift in ctx.listener.seasonal_drift:
        if drift.mode == name:
            return mode.with_pull(drift.feature, drift.target(day), drift.tolerance)
    if (streak := ctx.listener.final_streak) is None:
        return mode
    left = ctx.days_to_end(day)
    if left < streak.days:
        cap = streak.energy.cap
        energy = next((p.target for p in mode.pulls if p.feature == "energy"), cap)
        low = mode.with_pull("valence", streak.valence.target, streak.valence.tolerance)
        return low.with_pull("energy", min(energy, cap) - streak.energy.drop, streak.energy.tolerance)
    ramp = streak.ramp
    if left < streak.days + ramp.days:
        share = (streak.days + ramp.days - left) / ramp.days
        return mode.with_pull("valence", ramp.valence_start - ramp.valence_drop * share, ramp.tolerance)
    return mode


def plan_day(ctx: Context, day: date, rng: np.random.Generator) -> list[tuple[datetime, Slot]]:
    """The sessions a listener starts on one local day, as (local start, slot), in time order."""
    streak = ctx.streak(day)
    planned = []
    for slot in ctx.listener.slots:
        probability = slot.probability
        if streak is not None:
            late = slot.mode == streak.late_mode
            probability = streak.late_probability if late else probability * streak.other_probability_factor
        if day.weekday() in slot.days and rng.random() < probability:
            minute = int(rng.integers(slot.start[0], slot.start[1] + 1))
            second = int(rng.integers(0, 60))
            planned.append((datetime.combine(day, time()) + timedelta(minutes=minute, seconds=second), slot))
    return sorted(planned, key=lambda item: item[0])


def is_active(ctx: Context, day: date, rng: np.random.Generator) -> bool:
    """Whether the listener plays anything that day (some days off, a holiday, never off in a streak)."""
    draw = rng.random()
    if ctx.streak(day) is not None:
        return True
    off = ctx.listener.time_off
    if off and off[0] <= day <= off[1]:
        return False
    return draw < ctx.listener.active_probability


def pick_from_rotation(ctx: Context, state: State, dist: Distribution, rng: np.random.Generator) -> int:
    """Replay a favourite, preferring those that fit the current mode."""
    indices = np.array(state.rotation)
    fit = dist.fit[indices]
    weights = np.exp(ctx.cfg.rotation.mode_weight * (fit - fit.max()))
    return int(indices[np.searchsorted(np.cumsum(weights), rng.random() * weights.sum(), side="right")])


def skip_probability(spec: Skips, fit: float, replay: bool) -> float:
    """Poor fit to the moment means more skips; a favourite is skipped less often."""
    logit = spec.base_logit + spec.misfit_weight * min(-fit, spec.misfit_cap) - (spec.favourite_bonus if replay else 0.0)
    return 1 / (1 + math.exp(-logit))


def base_record(ctx: Context, platform: str, session: dict[str, object]) -> dict[str, object]:
    """The fields every record of a session shares, in Spotify's key order."""
    record: dict[str, object] = dict.fromkeys(RECORD_KEYS)
    record.update(
        username=ctx.listener.user_id,
        platform=platform,
        conn_country=ctx.listener.country,
        ip_addr=IP_ADDR,
        user_agent_decrypted=ctx.cfg.platforms[platform],
        shuffle=session["shuffle"],
        offline=session["offline"],
        incognito_mode=session["incognito"],
    )
    return record


def play_length(
    ctx: Context, duration: int, skipped: bool, rng: np.random.Generator, last_in_session: bool
) -> tuple[int, str, bool]:
    """ms_played, reason_end and skipped for one play."""
    skips, sessions = ctx.cfg.skips, ctx.cfg.sessions
    if skipped:
        if rng.random() < skips.forward_probability:
            cap = max(min(duration - 1000, skips.latest_ms), 2_000)
            quick = rng.random() < skips.quick_probability
            ms = int(rng.integers(1_000, skips.quick_under_ms)) if quick else int(rng.integers(1_000, cap + 1))
            return min(ms, cap), "fwdbtn", True
        return int(rng.integers(5_000, max(duration // 2, 6_000))), "endplay", True  # clicked another row
    if last_in_session and rng.random() < sessions.early_stop_probability:
        reason = "logout" if rng.random() < sessions.logout_probability else "endplay"
        return int(duration * rng.uniform(*sessions.early_stop_share)), reason, False
    return duration, "trackdone", False


def choose_item(ctx: Context, state: State, dist: Distribution, rng: np.random.Generator) -> tuple[str, object]:
    """What plays next: a podcast, an off-catalog track, a replayed favourite or a discovery."""
    odds = ctx.cfg.next_item
    draw = rng.random()
    if dist.mode.podcasts and draw < odds.podcast_probability:
        return "episode", ctx.episodes[int(rng.integers(len(ctx.episodes)))]
    draw = rng.random()
    if draw < odds.off_catalog_probability:
        return "off", ctx.off_catalog[int(rng.integers(len(ctx.off_catalog)))]
    if rng.random() < odds.replay_probability:
        return "replay", pick_from_rotation(ctx, state, dist, rng)
    return "discovery", dist.draw(rng)


def fill_item(record: dict[str, object], ctx: Context, kind: str, item: object) -> int:
    """Put the item's metadata into the record; return its duration (0 for an episode)."""
    if kind == "episode":
        assert isinstance(item, Episode)
        record.update(episode_name=item.name, episode_show_name=item.show, spotify_episode_uri=item.uri)
        return 0
    if kind == "off":
        assert isinstance(item, OffCatalogTrack)
        record.update(
            master_metadata_track_name=item.name,
            master_metadata_album_artist_name=item.artist,
            master_metadata_album_album_name=item.album,
            spotify_track_uri=f"spotify:track:{item.track_id}",
        )
        return item.duration_ms
    assert isinstance(item, int)
    cat = ctx.catalog
    record.update(
        master_metadata_track_name=cat.track_name[item],
        master_metadata_album_artist_name=cat.artist[item],
        master_metadata_album_album_name=cat.album[item],
        spotify_track_uri=f"spotify:track:{cat.track_id[item]}",
    )
    return int(cat.duration_ms[item])


def session_plays(
    ctx: Context, state: State, start: datetime, slot: Slot, day: date, rng: np.random.Generator
) -> Iterator[dict[str, object]]:
    """Back-to-back plays of one session starting at `start` (UTC) on local `day`; updates the rotation.

    Stops early at the end of the demo period (a late session on the last day).
    """
    cfg = ctx.cfg
    stop = local_to_utc(datetime.combine(cfg.end_date + timedelta(days=1), time()), ctx.listener.timezone)
    dist = ctx.sampler.distribution(adjust_mode(ctx, slot.mode, day))
    session = {
        "shuffle": bool(rng.random() < ctx.listener.shuffle_probability),
        "offline": bool(rng.random() < dist.mode.offline_probability),
        "incognito": bool(rng.random() < cfg.sessions.incognito_probability),
    }
    count = int(rng.integers(slot.plays[0], slot.plays[1] + 1))
    if (streak := ctx.streak(day)) is not None and slot.mode == streak.late_mode:
        count += streak.late_extra_plays
    reasons = cfg.sessions.reason_start
    state.reason_start = list(reasons)[int(rng.choice(len(reasons), p=list(reasons.values())))]
    moment = start
    for n in range(count):
        if moment >= stop:
            return
        record = base_record(ctx, slot.platform, session)
        kind, item = choose_item(ctx, state, dist, rng)
        duration = fill_item(record, ctx, kind, item)
        last = n == count - 1
        if kind == "episode":
            low, high = cfg.podcasts.play_minutes
            ms, reason_end, skipped = int(rng.integers(low, high) * 60_000 + rng.integers(0, 60_000)), "endplay", False
        else:
            fit = float(dist.fit[item]) if isinstance(item, int) else -cfg.skips.unknown_track_misfit
            skipped = bool(rng.random() < skip_probability(cfg.skips, fit, kind == "replay"))
            ms, reason_end, skipped = play_length(ctx, duration, skipped, rng, last)
            if isinstance(item, int) and not skipped and kind == "discovery" and rng.random() < cfg.rotation.keep_probability:
                state.rotation.append(item)
                del state.rotation[: -cfg.rotation.size]
        end = moment + timedelta(milliseconds=ms)
        record.update(
            ts=format_ts(end),
            ms_played=ms,
            reason_start=state.reason_start,
            reason_end=reason_end,
            skipped=skipped,
            offline_timestamp=epoch_ms(moment) if session["offline"] else None,
        )
        yield record
        state.reason_start = {"fwdbtn": "fwdbtn", "endplay": "clickrow"}.get(reason_end, "trackdone")
        state.last_end = end
        moment = end + timedelta(milliseconds=int(rng.integers(0, cfg.sessions.pause_ms)))


def listener_plays(ctx: Context, rng: np.random.Generator) -> list[dict[str, object]]:
    """Every audio play of one listener, day by day in local time, in UTC order."""
    listener, cfg = ctx.listener, ctx.cfg
    first_mode = ctx.sampler.distribution(cfg.modes[cfg.rotation.first_mode])
    state = State(rotation=[first_mode.draw(rng) for _ in range(cfg.rotation.first_tracks)])
    gap = timedelta(minutes=cfg.sessions.gap_minutes)
    records: list[dict[str, object]] = []
    day = listener.start
    while day <= cfg.end_date:
        if is_active(ctx, day, rng):
            for local_start, slot in plan_day(ctx, day, rng):
                start = local_to_utc(local_start, listener.timezone)
                if state.last_end is not None and start < state.last_end + gap:
                    start = state.last_end + gap + timedelta(seconds=int(rng.integers(0, cfg.sessions.gap_jitter_seconds)))
                records.extend(session_plays(ctx, state, start, slot, day, rng))
        day += timedelta(days=1)
    return records


def video_records(ctx: Context, video: VideoHistory, rng: np.random.Generator) -> list[dict[str, object]]:
    """A handful of video plays (music videos and a video podcast) that the audio loader must skip."""
    session = {"shuffle": False, "offline": None, "incognito": False}
    start = datetime.combine(video.day, time()) + timedelta(minutes=video.start)
    moment = local_to_utc(start, ctx.listener.timezone)
    records = []
    for n in range(video.music_videos + video.episodes):
        record = base_record(ctx, video.platform, session)
        if n < video.music_videos:
            track = ctx.sampler.distribution(ctx.cfg.modes[video.mode]).draw(rng)
            fill_item(record, ctx, "discovery", track)
        else:
            fill_item(record, ctx, "episode", ctx.episodes[n])
        ms = int(rng.integers(*video.play_ms))
        moment += timedelta(milliseconds=ms)
        record.update(ts=format_ts(moment), ms_played=ms, reason_start="unknown", reason_end="endplay", skipped=True)
        records.append(record)
        moment += timedelta(seconds=int(rng.integers(*video.pause_seconds)))
    return records


# ---------------------------------------------------------------------------------------------- files


def year_of(record: dict[str, object]) -> int:
    """The UTC year a record's ts falls in (how Spotify labels its files)."""
    return int(str(record["ts"])[:4])


def split_files(records: list[dict[str, object]]) -> list[tuple[str, list[dict[str, object]]]]:
    """(file name, records) per year, each year cut into near-equal parts of at most ~6000 records.

    The running index across all files mimics Spotify's `Streaming_History_Audio_<year>_<n>.json`.
    """
    out: list[tuple[str, list[dict[str, object]]]] = []
    years = sorted({year_of(r) for r in records})
    for year in years:
        rows = [r for r in records if year_of(r) == year]
        parts = math.ceil(len(rows) / MAX_RECORDS_PER_FILE)
        size = math.ceil(len(rows) / parts)
        for i in range(parts):
            out.append((f"Streaming_History_Audio_{year}_{len(out)}.json", rows[i * size : (i + 1) * size]))
    return out


def overlap_export(files: list[tuple[str, list[dict[str, object]]]], count: int) -> None:
    """Repeat the last records of the first file at the start of the second (a re-requested export).

    The loader must drop these exact duplicates (same uri, ts and ms_played) and count them.
    """
    if count and len(files) >= 2:
        files[1][1][:0] = [dict(r) for r in files[0][1][-count:]]


def export_text(records: list[dict[str, object]]) -> str:
    """The text json.dumps(records, indent=2, ensure_ascii=False) gives, about 10x faster.

    indent= switches json to its pure-Python encoder; records hold only scalars, so encoding each
    record with the C encoder and item separators that carry the indentation is byte-identical.
    """
    if not records:
        return "[]"
    parts = [json.dumps(r, ensure_ascii=False, separators=(",\n    ", ": "))[1:-1] for r in records]
    return "[\n  {\n    " + "\n  },\n  {\n    ".join(parts) + "\n  }\n]"


def write_json(path: Path, payload: object) -> Path:
    """Pretty-printed UTF-8 JSON like Spotify's export (indent 2, no ASCII escaping, no final newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    is_records = isinstance(payload, list) and all(isinstance(r, dict) for r in payload)
    text = export_text(payload) if is_records else json.dumps(payload, indent=2, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def clear_previous(folder: Path) -> None:
    """Remove export files of an earlier run, so a different seed leaves no stale file behind."""
    for old in sorted(folder.glob("Streaming_History_*.json")):
        old.unlink()


def listener_entry(listener: Listener) -> dict[str, object]:
    """The row of listeners.json the pipeline uses for the listener's time zone and labels."""
    return {
        "user_id": listener.user_id,
        "display_name": listener.display_name,
        "timezone": listener.timezone,
        "description": listener.description,
        "demo": True,
    }


def make_context(cfg: Personas, listener: Listener, catalog: Catalog, rng: np.random.Generator) -> Context:
    """Scores, samplers and made-up items of one listener."""
    sampler = Sampler(taste_score(listener, cfg.taste_model, catalog), catalog)
    off_catalog = off_catalog_pool(cfg.off_catalog, rng, set(catalog.track_id))
    return Context(cfg, listener, catalog, sampler, off_catalog, podcast_pool(cfg.podcasts, rng))


def generate_listener(out: Path, ctx: Context, rng: np.random.Generator, log: Callable[[str], None]) -> list[Path]:
    """Write one listener's export folder; return the files written."""
    listener = ctx.listener
    records = listener_plays(ctx, rng)
    files = split_files(records)
    overlap_export(files, listener.overlap_records)
    folder = out / listener.user_id
    clear_previous(folder)
    written = [write_json(folder / name, rows) for name, rows in files]
    if (video := listener.video_history) is not None:
        name = f"Streaming_History_Video_{video.day.year}.json"
        written.append(write_json(folder / name, video_records(ctx, video, rng)))
    log(f"{listener.user_id}: {len(records)} plays in {len(files)} audio files")
    return written


def generate_demo(
    out: Path,
    seed: int = 42,
    catalog_path: Path = CATALOG_PATH,
    log: Callable[[str], None] | None = None,
    personas: Path = PERSONAS_PATH,
) -> list[Path]:
    """Generate the DEMO exports under `out` and return every file written (listeners.json first).

    Layout: `out/listeners.json` and `out/<user_id>/Streaming_History_Audio_<YYYY>_<n>.json` per
    listener, plus `Streaming_History_Video_<YYYY>.json` for a listener with video_history. Same seed
    and personas file, same bytes. Raises PersonasError (naming each bad field) for an invalid file.
    """
    cfg = load_personas(personas)
    out = Path(out)
    catalog = load_catalog(catalog_path)
    seeds = np.random.SeedSequence(seed).spawn(len(cfg.listeners))
    written = [write_json(out / "listeners.json", [listener_entry(listener) for listener in cfg.listeners])]
    for listener, child in zip(cfg.listeners, seeds, strict=True):
        rng = np.random.default_rng(child)
        ctx = make_context(cfg, listener, catalog, rng)
        written += generate_listener(out, ctx, rng, log or (lambda _: None))
    return written
