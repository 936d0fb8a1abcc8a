"""The schema of data/demo/personas.yml: who the DEMO listeners are and how they listen.

Validated with pydantic; unknown keys are errors, so a typo is reported with the field's path (and the
listener's id) instead of silently falling back to a default. The generator (ingestion/demo.py) only
reads the validated :class:`Personas`.
"""

from __future__ import annotations

import math
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from moodlake.core.errors import MoodlakeError
from moodlake.core.paths import REPO_ROOT
from moodlake.core.vocabulary import audio_features

PERSONAS_PATH = REPO_ROOT / "data" / "demo" / "personas.yml"

def known_feature(name: str) -> str:
    """An audio feature of the shared vocabulary (dbt_project.yml vars), the one list every part uses."""
    if name not in audio_features():
        raise ValueError(f"expected one of {', '.join(audio_features())}")
    return name


Feature = Annotated[str, AfterValidator(known_feature)]
Genre = Literal["edm", "latin", "pop", "r&b", "rap", "rock"]  # the catalog's playlist_genre values


# ------------------------------------------------------------------------------------------ personas
# The schema of data/demo/personas.yml (documented in that file). Unknown keys are errors, so a typo
# is reported with the field's path instead of silently falling back to a default.


class PersonasError(MoodlakeError):
    """The personas file cannot be read or does not describe valid DEMO listeners."""


DAY_SETS = {"weekdays": (0, 1, 2, 3, 4), "weekend": (5, 6), "every_day": (0, 1, 2, 3, 4, 5, 6)}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(value: object) -> tuple[int, ...]:
    """weekdays | weekend | every_day | a list of day names -> weekday numbers (Monday = 0)."""
    if isinstance(value, str) and value in DAY_SETS:
        return DAY_SETS[value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v in DAY_NAMES for v in value):
        return tuple(DAY_NAMES.index(v) for v in value)
    raise ValueError(f"expected one of {', '.join(DAY_SETS)} or a list of {', '.join(DAY_NAMES)}")


def parse_clock(value: object) -> int:
    """A quoted "HH:MM" -> minutes after local midnight (hours past 24 mean after midnight)."""
    if isinstance(value, str):
        hours, _, minutes = value.partition(":")
        if hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(minutes) < 60 and int(hours) < 48:
            return int(hours) * 60 + int(minutes)
    raise ValueError('expected a quoted clock time "HH:MM" (YAML reads an unquoted 17:20 as a number)')


def ordered(pair: tuple[int, int]) -> tuple[int, int]:
    if pair[0] > pair[1]:
        raise ValueError("the first value must not exceed the second")
    return pair


def half_open(pair: tuple[int, int]) -> tuple[int, int]:
    if pair[0] >= pair[1]:
        raise ValueError("a duration range [low, high) needs low < high")
    return pair


def iana_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone") from exc
    return name


Probability = Annotated[float, Field(ge=0, le=1)]
Tolerance = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]
Days = Annotated[tuple[int, ...], BeforeValidator(parse_days)]
Clock = Annotated[int, BeforeValidator(parse_clock)]
IntRange = Annotated[tuple[Count, Count], AfterValidator(ordered)]  # both ends included
Span = Annotated[tuple[Count, Count], AfterValidator(half_open)]  # a duration: low included, high excluded
DemoText = Annotated[str, Field(pattern=r"(?i)demo")]  # names a person could see must say "demo"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pull(Spec):
    """A Gaussian preference for one audio feature: score -0.5 * ((x - target) / tolerance) ** 2."""

    feature: Feature
    target: float
    tolerance: Tolerance


class Mode(Spec):
    """A listening context as pulls on audio features; hashable, so distributions cache per variant."""

    pulls: tuple[Pull, ...]
    podcasts: bool  # whether a podcast episode can plausibly interrupt this mode
    offline_probability: Probability

    def with_pull(self, feature: str, target: float, tolerance: float) -> Mode:
        """The same mode with one feature's pull replaced (used for mood drift)."""
        kept = tuple(p for p in self.pulls if p.feature != feature)
        pull = Pull(feature=feature, target=round(target, 3), tolerance=tolerance)
        return self.model_copy(update={"pulls": (*kept, pull)})


class Slot(Spec):
    """A habitual session: which days, how likely, when it starts (local minutes) and how long."""

    mode: str
    days: Days
    probability: Probability
    start: Annotated[tuple[Clock, Clock], AfterValidator(ordered)]
    plays: IntRange
    platform: str


class SeasonalDrift(Spec):
    """A mode's feature target that sags along half a sine between two days of the year."""

    mode: str
    feature: Feature
    usual: float
    depth: float
    tolerance: Tolerance
    from_day_of_year: int = Field(ge=1, le=365)
    to_day_of_year: int = Field(ge=2, le=366)

    @model_validator(mode="after")
    def _window(self) -> SeasonalDrift:
        if self.from_day_of_year >= self.to_day_of_year:
            raise ValueError("from_day_of_year must be before to_day_of_year")
        return self

    def target(self, day: date) -> float:
        """The feature's target on `day`: `usual` outside the window, lower along half a sine inside."""
        doy, first, last = day.timetuple().tm_yday, self.from_day_of_year, self.to_day_of_year
        dip = math.sin(math.pi * (doy - first) / (last - first)) if first <= doy <= last else 0.0
        return self.usual - self.depth * max(dip, 0.0)


class Target(Spec):
    target: float
    tolerance: Tolerance


class EnergyDrop(Spec):
    cap: float
    drop: float
    tolerance: Tolerance


class Ramp(Spec):
    days: Positive
    valence_start: float
    valence_drop: float
    tolerance: Tolerance


class FinalStreak(Spec):
    """The last `days` days of the demo: every day active, every mode sad and quiet, long late nights."""

    days: Positive
    valence: Target
    energy: EnergyDrop
    late_mode: str
    late_probability: Probability
    late_extra_plays: Count
    other_probability_factor: Probability
    ramp: Ramp


class VideoHistory(Spec):
    """One evening of video plays, written to Streaming_History_Video_<year>.json."""

    day: date
    start: Clock
    platform: str
    mode: str
    music_videos: Count
    episodes: Count
    play_ms: Span
    pause_seconds: Span


class Listener(Spec):
    """One synthetic listener: where and when they listen, and what they like."""

    user_id: str = Field(pattern=r"^demo-[a-z0-9-]+$")
    display_name: DemoText
    timezone: Annotated[str, AfterValidator(iana_zone)]
    description: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    start: date
    active_probability: Probability
    shuffle_probability: Probability
    time_off: Annotated[tuple[date, date], AfterValidator(ordered)] | None = None  # first and last day
    taste: tuple[Pull, ...]
    genres: dict[Genre, float]
    slots: tuple[Slot, ...] = Field(min_length=1)
    seasonal_drift: tuple[SeasonalDrift, ...] = ()
    final_streak: FinalStreak | None = None
    overlap_records: Count = 0
    video_history: VideoHistory | None = None


class TasteModel(Spec):
    popularity_weight: float
    favourite_artists: Count
    favourite_artist_min_tracks: Positive
    favourite_artist_bonus: float


class Sessions(Spec):
    gap_minutes: Count
    gap_jitter_seconds: Positive
    pause_ms: Positive
    incognito_probability: Probability
    reason_start: dict[str, Probability]
    early_stop_probability: Probability
    logout_probability: Probability
    early_stop_share: tuple[Probability, Probability]


class NextItem(Spec):
    podcast_probability: Probability
    off_catalog_probability: Probability
    replay_probability: Probability


class Rotation(Spec):
    first_mode: str
    first_tracks: Positive
    size: Positive
    keep_probability: Probability
    mode_weight: float


class Skips(Spec):
    base_logit: float
    misfit_weight: float
    misfit_cap: float
    favourite_bonus: float
    unknown_track_misfit: float
    forward_probability: Probability
    quick_probability: Probability
    quick_under_ms: int = Field(gt=1000)
    latest_ms: int = Field(ge=2000)


class OffCatalog(Spec):
    tracks: Positive
    artists: Positive
    duration_ms: Span


class Podcasts(Spec):
    shows: tuple[DemoText, ...] = Field(min_length=1)
    episodes: Positive
    play_minutes: Span


class Personas(Spec):
    """The whole personas file."""

    end_date: date
    platforms: dict[str, str]
    modes: dict[str, Mode]
    taste_model: TasteModel
    sessions: Sessions
    next_item: NextItem
    rotation: Rotation
    skips: Skips
    off_catalog: OffCatalog
    podcasts: Podcasts
    listeners: tuple[Listener, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Personas:
        """Every mode and platform named is defined; chances that must sum to 1 do; ids are unique."""
        modes, platforms = self.modes, self.platforms
        refs = [("rotation.first_mode", self.rotation.first_mode, modes)]
        for i, who in enumerate(self.listeners):
            at = f"listeners.{i}({who.user_id})"
            refs += [(f"{at}.slots.{j}.mode", s.mode, modes) for j, s in enumerate(who.slots)]
            refs += [(f"{at}.slots.{j}.platform", s.platform, platforms) for j, s in enumerate(who.slots)]
            refs += [(f"{at}.seasonal_drift.{j}.mode", d.mode, modes) for j, d in enumerate(who.seasonal_drift)]
            if streak := who.final_streak:
                refs.append((f"{at}.final_streak.late_mode", streak.late_mode, modes))
            if video := who.video_history:
                refs += [
                    (f"{at}.video_history.mode", video.mode, modes),
                    (f"{at}.video_history.platform", video.platform, platforms),
                ]
                if video.music_videos + video.episodes > self.podcasts.episodes:
                    raise ValueError(f"{at}.video_history: more videos than podcasts.episodes")
        bad = [f"{where}: {name!r} is not one of {', '.join(known)}" for where, name, known in refs if name not in known]
        if bad:
            raise ValueError("; ".join(bad))
        if abs(sum(self.sessions.reason_start.values()) - 1) > 1e-9:
            raise ValueError("sessions.reason_start: the chances must sum to 1")
        if len({who.user_id for who in self.listeners}) != len(self.listeners):
            raise ValueError("listeners: every user_id must be unique")
        return self


def load_personas(path: Path = PERSONAS_PATH) -> Personas:
    """Read and validate the personas file; a PersonasError names the file and every bad field."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        return Personas.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise PersonasError(f"cannot read the DEMO personas file {path}: {exc}") from exc
    except ValidationError as exc:
        problems = [field_problem(raw, error) for error in exc.errors()]
        raise PersonasError(f"invalid DEMO personas file {path}:\n  " + "\n  ".join(problems)) from None


def field_problem(raw: object, error: Any) -> str:
    """One validation error as `listeners.0(demo-ava).slots.2.probability: <what is wrong> (got ...)`."""
    loc = [str(part) for part in error["loc"]]
    if len(loc) > 1 and loc[0] == "listeners" and isinstance(raw, dict):
        with suppress(LookupError, TypeError, AttributeError):
            loc[1] += f"({raw['listeners'][int(loc[1])]['user_id']})"
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        return message
    whole_block = error["type"] == "missing" or isinstance(error["input"], dict)
    shown = "" if whole_block else f" (got {error['input']!r:.60})"
    return f"{'.'.join(loc)}: {message}{shown}"
