"""A listener's current state: rolling valence/energy, healthy baseline, low-valence streak, context mode.

Coach mode needs to know where the listener *is* (iso principle: start there) and where they usually
are when things are fine (the baseline it nudges toward); mirror mode needs the contextual mode to
reflect. Everything here works on a plain pandas frame of one listener's plays with the
``gold.fct_plays`` columns, so the policy can be tested without Spark and fed by Spark in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from ml.features import MODE_FEATURES
from moodlake.core.vocabulary import daypart_names, project_var

# audio features the recommender compares tracks on: the listening-mode features (liveness says more
# about the recording than the mood)
MATCH_FEATURES: tuple[str, ...] = MODE_FEATURES
DAYPARTS: tuple[str, ...] = daypart_names()
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@cache
def streak_rules() -> tuple[float, int]:
    """(low-valence threshold, minimum days) from dbt_project.yml vars, the same numbers the marts use."""
    return float(project_var("low_valence_threshold")), int(project_var("low_valence_min_days"))


@dataclass(frozen=True)
class Context:
    """When the list is for: "now" (the current mode), a daypart, and optionally a weekday (1 = Monday)."""

    label: str
    daypart: str | None = None
    weekday: int | None = None

    @property
    def describe(self) -> str:
        if self.daypart is None and self.weekday is None:
            return "current"
        day = WEEKDAYS[self.weekday - 1].capitalize() + " " if self.weekday else ""
        return f"{day}{self.daypart or ''}".strip()


def parse_context(text: str | None) -> Context:
    """Parse ``now``, ``morning``, ``evening``, ``monday morning``, ``weekday mornings`` … with a clear error."""
    raw = (text or "now").strip().lower()
    if raw in ("", "now", "current"):
        return Context("now")
    daypart = weekday = None
    for word in raw.replace(",", " ").split():
        word = word.rstrip("s") if word.rstrip("s") in (*DAYPARTS, *WEEKDAYS) else word
        if word in DAYPARTS:
            daypart = word
        elif word in WEEKDAYS:
            weekday = WEEKDAYS.index(word) + 1
        elif word in ("weekday", "on", "in", "the"):
            continue
        else:
            raise ValueError(f"--context {text!r}: unknown word {word!r}; use now, {', '.join(DAYPARTS)}, "
                             "optionally after a weekday (e.g. 'monday morning')")
    return Context(raw, daypart, weekday)


@dataclass
class ListenerState:
    """Where the listener is now and where they usually are; numbers the policy and the reasons use."""

    user_id: str
    last_date: date
    recent_valence: float
    recent_energy: float
    recent_sessions: int
    baseline_valence: float
    baseline_energy: float
    streak_days: int
    low_threshold: float
    min_streak_days: int
    daily_valence: pd.Series = field(repr=False)

    @property
    def in_streak(self) -> bool:
        return self.streak_days >= self.min_streak_days

    def framing(self, mode: str) -> str:
        """One or two gentle sentences that frame the list; never a diagnosis."""
        if mode == "coach" and self.in_streak:
            return (f"Your listening has been on the quieter, lower-valence side for {self.streak_days} days "
                    f"(recent valence {self.recent_valence:.2f}, usually {self.baseline_valence:.2f}). "
                    "These tracks start close to where you are and lift a little, one small step.")
        if mode == "coach":
            return (f"Starting from your recent valence {self.recent_valence:.2f}, these tracks lift the mood "
                    "a small step.")
        return f"These tracks mirror your recent listening (valence {self.recent_valence:.2f}, energy " \
               f"{self.recent_energy:.2f})."


def usable_plays(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays that say something about mood: audio features known, not skipped, not a short play."""
    keep = plays["valence"].notna() & plays["energy"].notna()
    for flag in ("is_skipped", "is_short_play"):
        if flag in plays:
            keep &= ~plays[flag].fillna(False).astype(bool)
    return plays[keep]


def low_valence_streak(daily: pd.Series, threshold: float) -> int:
    """Consecutive low days (mean valence < threshold) ending at the last active day.

    Days without plays neither break nor extend a streak: silence is not evidence either way.
    """
    days = 0
    for value in daily.sort_index(ascending=False):
        if value >= threshold:
            break
        days += 1
    return days


def compute_state(plays: pd.DataFrame, user_id: str, recent_days: int = 7, min_recent_sessions: int = 5) -> ListenerState:
    """Rolling state over the last `recent_days` of listening (at least `min_recent_sessions` sessions).

    "Recent" is relative to the listener's last play, not today, so an export from last year still
    describes the state it ended in. The baseline is the median over days that were not low.
    """
    mine = usable_plays(plays[plays["user_id"] == user_id])
    if mine.empty:
        raise ValueError(f"listener {user_id!r} has no plays with audio features in fct_plays")
    threshold, min_days = streak_rules()
    dates = pd.to_datetime(mine["local_date"])
    last = dates.max()
    recent = mine[dates > last - pd.Timedelta(days=recent_days)]
    if "session_id" in mine and recent["session_id"].nunique() < min_recent_sessions:
        sessions = mine.sort_values("played_at")["session_id"].drop_duplicates().iloc[-min_recent_sessions:]
        recent = mine[mine["session_id"].isin(sessions)]
    by_session = recent.groupby("session_id")[["valence", "energy"]].mean() if "session_id" in recent else recent
    daily = mine.groupby(dates.dt.date)["valence"].mean()
    daily_energy = mine.groupby(dates.dt.date)["energy"].mean()
    healthy = daily >= threshold
    base_v = float(daily[healthy].median()) if healthy.any() else float(daily.median())
    base_e = float(daily_energy[healthy].median()) if healthy.any() else float(daily_energy.median())
    return ListenerState(
        user_id=user_id,
        last_date=last.date(),
        recent_valence=float(by_session["valence"].mean()),
        recent_energy=float(by_session["energy"].mean()),
        recent_sessions=int(recent["session_id"].nunique()) if "session_id" in recent else len(recent),
        baseline_valence=base_v,
        baseline_energy=base_e,
        streak_days=low_valence_streak(daily, threshold),
        low_threshold=threshold,
        min_streak_days=min_days,
        daily_valence=daily,
    )


@dataclass
class ModeProfile:
    """The contextual mode a list should fit: feature centroid and spread of the plays that define it."""

    name: str
    centroid: dict[str, float]
    spread: dict[str, float]
    plays: int


def context_plays(plays: pd.DataFrame, state: ListenerState, context: Context, recent_days: int = 7,
                  min_plays: int = 30) -> pd.DataFrame:
    """The listener's plays in this context, as recent as possible while still at least `min_plays`."""
    mine = usable_plays(plays[plays["user_id"] == state.user_id])
    if context.daypart:
        mine = mine[mine["daypart"] == context.daypart]
    if context.weekday:
        mine = mine[mine["local_weekday"] == context.weekday]
    if mine.empty:
        raise ValueError(f"listener {state.user_id!r} has no plays in context {context.label!r}")
    dates = pd.to_datetime(mine["local_date"])
    for days in (recent_days, 28, 90):
        window = mine[dates > pd.Timestamp(state.last_date) - pd.Timedelta(days=days)]
        if len(window) >= min_plays:
            return window
    return mine


def mode_profile(plays: pd.DataFrame, state: ListenerState, context: Context,
                 play_modes: pd.DataFrame | None = None, mode_names: pd.DataFrame | None = None) -> ModeProfile:
    """Centroid of the contextual mode: the dominant upstream listening mode among context plays, or
    (before `gold.ml_play_modes` exists) the context plays themselves."""
    window = context_plays(plays, state, context)
    name = f"{context.describe} mode"
    if play_modes is not None and not play_modes.empty and "play_id" in window:
        tagged = window.merge(play_modes[["play_id", "mode_id"]], on="play_id", how="inner")
        if len(tagged) >= 10:
            dominant = tagged["mode_id"].value_counts().idxmax()
            window = tagged[tagged["mode_id"] == dominant]
            label = None
            if mode_names is not None and not mode_names.empty:
                hit = mode_names[(mode_names["user_id"] == state.user_id) & (mode_names["mode_id"] == dominant)]
                label = str(hit["mode_name"].iloc[0]) if len(hit) else None
            name = f"{context.describe} mode #{dominant}" + (f" ({label})" if label else "")
    centroid = {f: float(window[f].mean()) for f in MATCH_FEATURES}
    spread = {f: float(np.nan_to_num(window[f].std(), nan=0.0)) for f in MATCH_FEATURES}
    return ModeProfile(name=name, centroid=centroid, spread=spread, plays=len(window))


def recent_track_ids(plays: pd.DataFrame, state: ListenerState, days: int = 30) -> set[str]:
    """Tracks the listener played lately: a recommendation should not be a replay of last week."""
    mine = plays[plays["user_id"] == state.user_id]
    dates = pd.to_datetime(mine["local_date"])
    return set(mine.loc[dates > pd.Timestamp(state.last_date - timedelta(days=days)), "track_id"].dropna())
