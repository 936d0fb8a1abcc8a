"""Deterministic generator of SYNTHETIC DEMO listening histories (no real person's data).

`make run` needs listening history to show anything, and we may not ship anyone's real export. This
module invents three listeners ("demo-ava", "demo-ben", "demo-noor") and writes files shaped exactly
like a Spotify "Extended Streaming History" privacy export, so the demo exercises the same loader,
models and dashboards as a real export. Every user_id and username starts with "demo-" so anything
derived from these files says "demo".

The plays are sampled from the bundled public track catalog with patterns the later stages are meant
to find: listener-local dayparts (computed in the listener's IANA zone and converted to UTC with
zoneinfo, so DST is right), a taste vector over audio features, replayed favourites, skips that
depend on how well a track fits the moment, slow mood drift and a final low-valence streak for
demo-noor. A fixed end date (not "today") and a seeded numpy Generator make the output byte-identical
for the same seed.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from moodlake.core.paths import REPO_ROOT

CATALOG_PATH = REPO_ROOT / "data" / "catalog" / "spotify_songs.csv.gz"

END_DATE = date(2026, 10, 31)  # fixed, so the demo never depends on the day it is generated
MAX_RECORDS_PER_FILE = 6000  # Spotify splits its export files at roughly this size
SESSION_GAP = timedelta(minutes=30)  # minimum pause between two sessions
IP_ADDR = "192.0.2.0"  # RFC 5737 documentation range: never a real address
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

RECORD_KEYS = (
    "ts",
    "username",
    "platform",
    "ms_played",
    "conn_country",
    "ip_addr",
    "user_agent_decrypted",
    "master_metadata_track_name",
    "master_metadata_album_artist_name",
    "master_metadata_album_album_name",
    "spotify_track_uri",
    "episode_name",
    "episode_show_name",
    "spotify_episode_uri",
    "audiobook_title",
    "audiobook_uri",
    "audiobook_chapter_uri",
    "audiobook_chapter_title",
    "reason_start",
    "reason_end",
    "shuffle",
    "skipped",
    "offline",
    "offline_timestamp",
    "incognito_mode",
)

FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "loudness",
    "tempo",
)

USER_AGENTS = {
    "android": "Spotify/8.9.96 Android/34 (Pixel 7)",
    "ios": "Spotify/8.9.96 iOS/17.5 (iPhone15,2)",
    "windows": "Spotify/1.2.40 Win32_x86_64/0 (PC desktop)",
    "osx": "Spotify/1.2.40 OSX_ARM64/0 (MacBookPro18,3)",
}

PODCAST_SHOWS = ("The Demo Morning Briefing", "Data Walks (Demo)", "Slow Science Demo Hour")


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
    features = {name: np.array([float(r[name]) for r in kept]) for name in FEATURES}
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


# ------------------------------------------------------------------------------------ taste and modes


@dataclass(frozen=True)
class Pull:
    """A Gaussian preference for one audio feature: score -0.5 * ((x - target) / tolerance) ** 2."""

    feature: str
    target: float
    tolerance: float


@dataclass(frozen=True)
class Mode:
    """A listening context (commute, focus, late night, ...) as pulls on audio features.

    Frozen and hashable so a sampling distribution can be cached per (listener, mode variant).
    """

    name: str
    pulls: tuple[Pull, ...]
    podcasts: bool = False  # whether a podcast episode can plausibly interrupt this mode

    def with_pull(self, feature: str, target: float, tolerance: float) -> Mode:
        """The same mode with one feature's pull replaced (used for mood drift)."""
        kept = tuple(p for p in self.pulls if p.feature != feature)
        return replace(self, pulls=(*kept, Pull(feature, round(target, 3), tolerance)))


MODES = {
    "commute": Mode(
        "commute", (Pull("energy", 0.85, 0.12), Pull("tempo", 126, 14), Pull("valence", 0.6, 0.3)), podcasts=True
    ),
    "focus": Mode(
        "focus",
        (Pull("instrumentalness", 0.85, 0.3), Pull("speechiness", 0.03, 0.04), Pull("energy", 0.55, 0.25)),
        podcasts=True,
    ),
    "evening": Mode("evening", (Pull("valence", 0.55, 0.25), Pull("energy", 0.6, 0.3))),
    "late": Mode("late", (Pull("valence", 0.22, 0.12), Pull("energy", 0.4, 0.15), Pull("tempo", 95, 25))),
    "calm": Mode(
        "calm",
        (Pull("acousticness", 0.65, 0.25), Pull("energy", 0.4, 0.15), Pull("valence", 0.55, 0.25)),
        podcasts=True,
    ),
    "party": Mode("party", (Pull("danceability", 0.85, 0.08), Pull("energy", 0.8, 0.12), Pull("valence", 0.7, 0.2))),
}


@dataclass(frozen=True)
class Slot:
    """A habitual session: which days, how likely, when it starts (local minutes) and how long."""

    mode: str
    weekdays: tuple[int, ...]  # Monday = 0
    probability: float
    start_min: tuple[int, int]  # minutes after local midnight of the day; > 1440 means after midnight
    plays: tuple[int, int]
    platform: str


WEEKDAYS = (0, 1, 2, 3, 4)
WEEKEND = (5, 6)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def hm(hours: int, minutes: int = 0) -> int:
    """Minutes after midnight, so slot tables read like a timetable."""
    return hours * 60 + minutes


@dataclass(frozen=True)
class Listener:
    """One synthetic listener: where and when they listen, and what they like."""

    user_id: str
    display_name: str
    timezone: str
    description: str
    country: str
    start: date
    taste: tuple[Pull, ...]
    genres: dict[str, float]
    slots: tuple[Slot, ...]
    active_probability: float
    shuffle_probability: float
    time_off: tuple[date, date] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def ben_evening_valence(day: date) -> float:
    """demo-ben's evening valence target sags over the summer (June to September) and recovers."""
    doy = day.timetuple().tm_yday
    dip = math.sin(math.pi * (doy - 152) / 122) if 152 <= doy <= 274 else 0.0
    return 0.62 - 0.34 * max(dip, 0.0)


def noor_days_to_end(day: date) -> int:
    """Days from `day` to the end of the demo; drives demo-noor's final low streak."""
    return (END_DATE - day).days


NOOR_STREAK_DAYS = 21
NOOR_RAMP_DAYS = 14  # the decline before the streak, so it does not start as a cliff


def adjust_mode(listener: Listener, mode: Mode, day: date) -> Mode:
    """Apply the listener's slow mood drift to a mode on a given local day."""
    if listener.user_id == "demo-ben" and mode.name == "evening":
        return mode.with_pull("valence", ben_evening_valence(day), 0.15)
    if listener.user_id == "demo-noor":
        left = noor_days_to_end(day)
        if left < NOOR_STREAK_DAYS:
            energy = next((p.target for p in mode.pulls if p.feature == "energy"), 0.45)
            return mode.with_pull("valence", 0.14, 0.08).with_pull("energy", min(energy, 0.45) - 0.1, 0.15)
        if left < NOOR_STREAK_DAYS + NOOR_RAMP_DAYS:
            share = (NOOR_STREAK_DAYS + NOOR_RAMP_DAYS - left) / NOOR_RAMP_DAYS
            return mode.with_pull("valence", 0.5 - 0.35 * share, 0.15)
    return mode


def in_noor_streak(listener: Listener, day: date) -> bool:
    """Whether demo-noor is inside her final low streak (more and longer late nights)."""
    return listener.user_id == "demo-noor" and noor_days_to_end(day) < NOOR_STREAK_DAYS


LISTENERS = (
    Listener(
        user_id="demo-ava",
        display_name="Ava (demo)",
        timezone="Europe/Berlin",
        description="Berlin commuter: EDM/pop at 115-130 BPM on the train, danceable weekends out. Synthetic.",
        country="DE",
        start=date(2025, 12, 15),
        taste=(
            Pull("danceability", 0.78, 0.12),
            Pull("tempo", 123, 7),
            Pull("acousticness", 0.02, 0.12),
            Pull("speechiness", 0.05, 0.08),
            Pull("liveness", 0.1, 0.15),
        ),
        genres={"edm": 0.8, "pop": 0.6, "latin": 0.3},
        slots=(
            Slot("commute", WEEKDAYS, 0.88, (hm(7, 5), hm(7, 50)), (9, 14), "android"),
            Slot("evening", WEEKDAYS, 0.3, (hm(12, 10), hm(12, 40)), (4, 7), "android"),
            Slot("commute", WEEKDAYS, 0.75, (hm(17, 20), hm(18, 10)), (8, 12), "android"),
            Slot("evening", EVERY_DAY, 0.45, (hm(19, 30), hm(21, 0)), (5, 10), "windows"),
            Slot("party", (4, 5), 0.75, (hm(21, 30), hm(22, 30)), (14, 22), "android"),
            Slot("late", EVERY_DAY, 0.22, (hm(23, 15), hm(24, 30)), (4, 8), "android"),
            Slot("calm", WEEKEND, 0.8, (hm(10, 0), hm(12, 30)), (10, 16), "windows"),
        ),
        active_probability=0.92,
        shuffle_probability=0.55,
        time_off=(date(2026, 8, 10), date(2026, 8, 18)),
    ),
    Listener(
        user_id="demo-ben",
        display_name="Ben (demo)",
        timezone="America/New_York",
        description="New York developer: instrumental focus music at work, rock evenings that dip over summer. "
        "Synthetic.",
        country="US",
        start=date(2025, 12, 22),
        taste=(
            Pull("energy", 0.68, 0.15),
            Pull("danceability", 0.5, 0.12),
            Pull("loudness", -6.5, 2.5),
            Pull("speechiness", 0.04, 0.04),
            Pull("acousticness", 0.08, 0.2),
            Pull("tempo", 105, 25),
        ),
        genres={"rock": 0.9, "r&b": 0.4, "edm": 0.3},
        slots=(
            Slot("commute", WEEKDAYS, 0.7, (hm(7, 30), hm(8, 10)), (6, 10), "ios"),
            Slot("focus", WEEKDAYS, 0.85, (hm(9, 30), hm(10, 30)), (10, 16), "osx"),
            Slot("focus", WEEKDAYS, 0.6, (hm(13, 30), hm(14, 30)), (8, 13), "osx"),
            Slot("evening", EVERY_DAY, 0.65, (hm(19, 0), hm(20, 30)), (7, 12), "ios"),
            Slot("late", EVERY_DAY, 0.25, (hm(23, 0), hm(24, 15)), (4, 8), "ios"),
            Slot("calm", WEEKEND, 0.75, (hm(10, 30), hm(13, 0)), (10, 16), "ios"),
            Slot("party", (5,), 0.4, (hm(21, 0), hm(22, 0)), (10, 16), "ios"),
        ),
        active_probability=0.9,
        shuffle_probability=0.2,
        time_off=(date(2026, 7, 3), date(2026, 7, 9)),
    ),
    Listener(
        user_id="demo-noor",
        display_name="Noor (demo)",
        timezone="Australia/Sydney",
        description="Sydney night owl: acoustic, low-energy r&b/pop; the last three weeks are a run of sad late "
        "nights. Synthetic.",
        country="AU",
        start=date(2026, 1, 4),
        taste=(
            Pull("acousticness", 0.7, 0.25),
            Pull("energy", 0.35, 0.15),
            Pull("danceability", 0.55, 0.2),
            Pull("speechiness", 0.04, 0.06),
        ),
        genres={"r&b": 0.8, "pop": 0.5, "latin": 0.3},
        slots=(
            Slot("commute", WEEKDAYS, 0.75, (hm(6, 45), hm(7, 40)), (7, 11), "android"),
            Slot("focus", WEEKDAYS, 0.35, (hm(11, 0), hm(14, 0)), (6, 10), "windows"),
            Slot("evening", EVERY_DAY, 0.65, (hm(18, 30), hm(20, 30)), (7, 12), "android"),
            Slot("late", EVERY_DAY, 0.6, (hm(22, 30), hm(24, 45)), (7, 14), "android"),
            Slot("calm", WEEKEND, 0.8, (hm(10, 0), hm(13, 0)), (8, 14), "windows"),
            Slot("party", (5,), 0.3, (hm(21, 0), hm(22, 0)), (8, 14), "android"),
        ),
        active_probability=0.9,
        shuffle_probability=0.35,
    ),
)


# ------------------------------------------------------------------------------------------- scoring


def pull_score(pulls: tuple[Pull, ...], catalog: Catalog) -> np.ndarray:
    """Sum of the Gaussian log-preferences of every pull, per catalog track (0 = perfect fit)."""
    score = np.zeros(len(catalog))
    for pull in pulls:
        score -= 0.5 * ((catalog.features[pull.feature] - pull.target) / pull.tolerance) ** 2
    return score


def favourite_artists(listener: Listener, taste: np.ndarray, catalog: Catalog, count: int = 12) -> list[str]:
    """The artists whose catalog tracks fit the listener best on average (with at least 3 tracks)."""
    by_artist: dict[str, list[float]] = {}
    for i in np.flatnonzero(catalog.usable):
        by_artist.setdefault(catalog.artist[i], []).append(float(taste[i]))
    ranked = sorted(
        ((float(np.mean(scores)), name) for name, scores in by_artist.items() if len(scores) >= 3),
        key=lambda item: (-item[0], item[1]),
    )
    return [name for _, name in ranked[:count]]


def taste_score(listener: Listener, catalog: Catalog) -> np.ndarray:
    """The listener's stable preference per track: audio features, genres, a little popularity, artists.

    Popularity and genre are part of real taste, but the audio-feature pulls dominate so that played
    tracks differ from unplayed ones of the same genre and popularity band.
    """
    score = pull_score(listener.taste, catalog) + 1.2 * catalog.popularity / 100
    for genre, bonus in listener.genres.items():
        score = score + bonus * (catalog.genre == genre)
    artists = set(favourite_artists(listener, score, catalog))
    score = score + 1.0 * np.array([name in artists for name in catalog.artist])
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


def off_catalog_pool(rng: np.random.Generator, known: set[str], count: int = 40) -> list[OffCatalogTrack]:
    """Made-up indie tracks with names that say they are demo data."""
    pool = []
    for n in range(count):
        track_id = fake_id(rng)
        while track_id in known:
            track_id = fake_id(rng)
        artist_no = int(rng.integers(1, 15))
        pool.append(
            OffCatalogTrack(
                track_id=track_id,
                name=f"Demo Song {n + 1}",
                artist=f"Demo Indie Artist {artist_no}",
                album=f"Demo Sessions Vol. {artist_no}",
                duration_ms=int(rng.integers(140_000, 320_000)),
            )
        )
    return pool


@dataclass(frozen=True)
class Episode:
    """A made-up podcast episode."""

    uri: str
    name: str
    show: str


def podcast_pool(rng: np.random.Generator, count: int = 30) -> list[Episode]:
    """A few podcast episodes, so the loader sees episode rows (~1 % of plays)."""
    return [
        Episode(f"spotify:episode:{fake_id(rng)}", f"Episode {n + 1}: notes from the demo", PODCAST_SHOWS[n % 3])
        for n in range(count)
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


def plan_day(listener: Listener, day: date, rng: np.random.Generator) -> list[tuple[datetime, Slot]]:
    """The sessions a listener starts on one local day, as (local start, slot), in time order."""
    planned = []
    for slot in listener.slots:
        probability = slot.probability
        if in_noor_streak(listener, day):
            probability = 0.97 if slot.mode == "late" else probability * 0.6
        if day.weekday() in slot.weekdays and rng.random() < probability:
            minute = int(rng.integers(slot.start_min[0], slot.start_min[1] + 1))
            second = int(rng.integers(0, 60))
            planned.append((datetime.combine(day, time()) + timedelta(minutes=minute, seconds=second), slot))
    return sorted(planned, key=lambda item: item[0])


def is_active(listener: Listener, day: date, rng: np.random.Generator) -> bool:
    """Whether the listener plays anything that day (some days off, a holiday, never off in a streak)."""
    draw = rng.random()
    if in_noor_streak(listener, day):
        return True
    if listener.time_off and listener.time_off[0] <= day <= listener.time_off[1]:
        return False
    return draw < listener.active_probability


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

    listener: Listener
    catalog: Catalog
    sampler: Sampler
    off_catalog: list[OffCatalogTrack]
    episodes: list[Episode]


ROTATION_SIZE = 150
REPLAY_PROBABILITY = 0.35
OFF_CATALOG_PROBABILITY = 0.03
PODCAST_PROBABILITY = 0.025  # only in modes where a podcast fits: ~1 % of all plays


def pick_from_rotation(state: State, dist: Distribution, rng: np.random.Generator) -> int:
    """Replay a favourite, preferring those that fit the current mode."""
    indices = np.array(state.rotation)
    fit = dist.fit[indices]
    weights = np.exp(1.5 * (fit - fit.max()))
    return int(indices[np.searchsorted(np.cumsum(weights), rng.random() * weights.sum(), side="right")])


def skip_probability(fit: float, replay: bool) -> float:
    """Poor fit to the moment means more skips; a favourite is skipped less often."""
    logit = -2.6 + 1.5 * min(-fit, 6.0) - (0.6 if replay else 0.0)
    return 1 / (1 + math.exp(-logit))


def base_record(ctx: Context, platform: str, session: dict[str, object]) -> dict[str, object]:
    """The fields every record of a session shares, in Spotify's key order."""
    record: dict[str, object] = dict.fromkeys(RECORD_KEYS)
    record.update(
        username=ctx.listener.user_id,
        platform=platform,
        conn_country=ctx.listener.country,
        ip_addr=IP_ADDR,
        user_agent_decrypted=USER_AGENTS[platform],
        shuffle=session["shuffle"],
        offline=session["offline"],
        incognito_mode=session["incognito"],
    )
    return record


def play_length(
    duration: int, skipped: bool, rng: np.random.Generator, last_in_session: bool
) -> tuple[int, str, bool]:
    """ms_played, reason_end and skipped for one play."""
    if skipped:
        if rng.random() < 0.85:
            cap = max(min(duration - 1000, 90_000), 2_000)
            ms = int(rng.integers(1_000, 30_000)) if rng.random() < 0.6 else int(rng.integers(1_000, cap + 1))
            return min(ms, cap), "fwdbtn", True
        return int(rng.integers(5_000, max(duration // 2, 6_000))), "endplay", True  # clicked another row
    if last_in_session and rng.random() < 0.3:
        reason = "logout" if rng.random() < 0.3 else "endplay"
        return int(duration * rng.uniform(0.3, 0.95)), reason, False
    return duration, "trackdone", False


def choose_item(ctx: Context, state: State, dist: Distribution, rng: np.random.Generator) -> tuple[str, object]:
    """What plays next: a podcast, an off-catalog track, a replayed favourite or a discovery."""
    draw = rng.random()
    if dist.mode.podcasts and draw < PODCAST_PROBABILITY:
        return "episode", ctx.episodes[int(rng.integers(len(ctx.episodes)))]
    draw = rng.random()
    if draw < OFF_CATALOG_PROBABILITY:
        return "off", ctx.off_catalog[int(rng.integers(len(ctx.off_catalog)))]
    if rng.random() < REPLAY_PROBABILITY:
        return "replay", pick_from_rotation(state, dist, rng)
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
    stop = local_to_utc(datetime.combine(END_DATE + timedelta(days=1), time()), ctx.listener.timezone)
    dist = ctx.sampler.distribution(adjust_mode(ctx.listener, MODES[slot.mode], day))
    session = {
        "shuffle": bool(rng.random() < ctx.listener.shuffle_probability),
        "offline": bool(rng.random() < (0.08 if slot.mode == "commute" else 0.01)),
        "incognito": bool(rng.random() < 0.01),
    }
    count = int(rng.integers(slot.plays[0], slot.plays[1] + 1))
    if in_noor_streak(ctx.listener, day) and slot.mode == "late":
        count += 4
    state.reason_start = ["clickrow", "playbtn", "appload"][int(rng.choice(3, p=[0.55, 0.3, 0.15]))]
    moment = start
    for n in range(count):
        if moment >= stop:
            return
        record = base_record(ctx, slot.platform, session)
        kind, item = choose_item(ctx, state, dist, rng)
        duration = fill_item(record, ctx, kind, item)
        last = n == count - 1
        if kind == "episode":
            ms, reason_end, skipped = int(rng.integers(8, 45) * 60_000 + rng.integers(0, 60_000)), "endplay", False
        else:
            fit = float(dist.fit[item]) if isinstance(item, int) else -1.0  # unknown tracks: a middling fit
            skipped = bool(rng.random() < skip_probability(fit, kind == "replay"))
            ms, reason_end, skipped = play_length(duration, skipped, rng, last)
            if isinstance(item, int) and not skipped and kind == "discovery" and rng.random() < 0.25:
                state.rotation.append(item)
                del state.rotation[:-ROTATION_SIZE]
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
        moment = end + timedelta(milliseconds=int(rng.integers(0, 5_000)))


def listener_plays(ctx: Context, rng: np.random.Generator) -> list[dict[str, object]]:
    """Every audio play of one listener, day by day in local time, in UTC order."""
    listener = ctx.listener
    evening = ctx.sampler.distribution(MODES["evening"])
    first = [evening.draw(rng) for _ in range(40)]
    state = State(rotation=first)
    records: list[dict[str, object]] = []
    day = listener.start
    while day <= END_DATE:
        if is_active(listener, day, rng):
            for local_start, slot in plan_day(listener, day, rng):
                start = local_to_utc(local_start, listener.timezone)
                if state.last_end is not None and start < state.last_end + SESSION_GAP:
                    start = state.last_end + SESSION_GAP + timedelta(seconds=int(rng.integers(0, 1200)))
                records.extend(session_plays(ctx, state, start, slot, day, rng))
        day += timedelta(days=1)
    return records


def video_records(ctx: Context, rng: np.random.Generator, day: date) -> list[dict[str, object]]:
    """A handful of video plays (music videos and a video podcast) that the audio loader must skip."""
    session = {"shuffle": False, "offline": None, "incognito": False}
    moment = local_to_utc(datetime.combine(day, time(21, 5)), ctx.listener.timezone)
    records = []
    for n in range(6):
        record = base_record(ctx, "ios", session)
        if n < 4:
            track = ctx.sampler.distribution(MODES["evening"]).draw(rng)
            fill_item(record, ctx, "discovery", track)
        else:
            fill_item(record, ctx, "episode", ctx.episodes[n])
        ms = int(rng.integers(3_000, 60_000))
        moment += timedelta(milliseconds=ms)
        record.update(ts=format_ts(moment), ms_played=ms, reason_start="unknown", reason_end="endplay", skipped=True)
        records.append(record)
        moment += timedelta(seconds=int(rng.integers(5, 90)))
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


def overlap_export(files: list[tuple[str, list[dict[str, object]]]], count: int = 20) -> None:
    """Repeat the last records of the first file at the start of the second (a re-requested export).

    The loader must drop these exact duplicates (same uri, ts and ms_played) and count them.
    """
    if len(files) >= 2:
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


def make_context(listener: Listener, catalog: Catalog, rng: np.random.Generator) -> Context:
    """Scores, samplers and made-up items of one listener."""
    sampler = Sampler(taste_score(listener, catalog), catalog)
    return Context(listener, catalog, sampler, off_catalog_pool(rng, set(catalog.track_id)), podcast_pool(rng))


DUPLICATES_FOR = "demo-ava"
VIDEO_FOR = "demo-ben"


def generate_listener(
    out: Path, listener: Listener, catalog: Catalog, rng: np.random.Generator, log: Callable[[str], None]
) -> list[Path]:
    """Write one listener's export folder; return the files written."""
    ctx = make_context(listener, catalog, rng)
    records = listener_plays(ctx, rng)
    files = split_files(records)
    if listener.user_id == DUPLICATES_FOR:
        overlap_export(files)
    folder = out / listener.user_id
    clear_previous(folder)
    written = [write_json(folder / name, rows) for name, rows in files]
    if listener.user_id == VIDEO_FOR:
        day = date(2026, 3, 14)
        written.append(write_json(folder / f"Streaming_History_Video_{day.year}.json", video_records(ctx, rng, day)))
    log(f"{listener.user_id}: {len(records)} plays in {len(files)} audio files")
    return written


def generate_demo(
    out: Path, seed: int = 42, catalog_path: Path = CATALOG_PATH, log: Callable[[str], None] | None = None
) -> list[Path]:
    """Generate the DEMO exports under `out` and return every file written (listeners.json first).

    Layout: `out/listeners.json` and `out/<user_id>/Streaming_History_Audio_<YYYY>_<n>.json` per
    listener, plus one `Streaming_History_Video_<YYYY>.json` for demo-ben. Same seed, same bytes.
    """
    out = Path(out)
    catalog = load_catalog(catalog_path)
    seeds = np.random.SeedSequence(seed).spawn(len(LISTENERS))
    written = [write_json(out / "listeners.json", [listener_entry(listener) for listener in LISTENERS])]
    for listener, child in zip(LISTENERS, seeds, strict=True):
        written += generate_listener(out, listener, catalog, np.random.default_rng(child), log or (lambda _: None))
    return written
