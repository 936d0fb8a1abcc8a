"""Plain-language insight sentences from the Gold marts, per listener, with their numbers.

`moodlake run` calls :func:`insights_stage` after dbt: it fills ``summary["insights"]`` with the
descriptive (what happened) and diagnostic (why, as correlations with confidence intervals)
sentences; the ML stages append predictive, prescriptive and cognitive ones to the same lists and the
report stage shows them all. Every sentence names its listener (marts never mix listeners) and
starts with "DEMO" when the data is the bundled synthetic demo, so nobody mistakes it for a person.
Sentences describe the music played; they are for reflection, never a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from moodlake.analytics.coverage import FeatureBase, feature_bases
from moodlake.core.vocabulary import mood_quadrants

KINDS = ("descriptive", "diagnostic", "predictive", "prescriptive", "cognitive")
WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
OUTCOME_WORDS = {"skip": "skips", "completion": "completion (share of a track played)", "play_count": "replays (plays per track)"}
OUTCOME_SUBJECT = {"skip": "Skips", "completion": "Completion", "play_count": "Replays"}
MIN_SESSIONS = 5


@dataclass
class GoldFrames:
    """The marts the sentences read, as pandas frames (they are small: aggregates per listener)."""

    daypart: pd.DataFrame
    hour_weekday: pd.DataFrame
    correlations: pd.DataFrame
    genre_gap: pd.DataFrame
    feature_gap: pd.DataFrame
    daily: pd.DataFrame
    streaks: pd.DataFrame
    recap: pd.DataFrame
    demo_users: set[str]
    #: per listener, the share of listening with track-level audio features (empty before coverage exists)
    bases: dict[str, FeatureBase] = field(default_factory=dict)

    @property
    def users(self) -> list[str]:
        return sorted(set(self.daypart["user_id"]))


def load_gold(spark: Any) -> GoldFrames:
    """Read the marts once; a missing mart is a clear error naming it (run `moodlake transform`)."""
    names = {
        "daypart": "gold.mart_daypart_mood",
        "hour_weekday": "gold.mart_hour_weekday_profile",
        "correlations": "gold.mart_feature_correlations",
        "genre_gap": "gold.mart_genre_gap",
        "feature_gap": "gold.mart_feature_gap",
        "daily": "gold.mart_daily_mood",
        "streaks": "gold.mart_low_valence_streaks",
        "recap": "gold.mart_yearly_recap",
    }
    missing = [table for table in names.values() if not spark.catalog.tableExists(table)]
    if missing:
        raise RuntimeError(f"Gold marts missing: {', '.join(missing)}; run `moodlake transform` first")
    frames = {key: spark.table(table).toPandas() for key, table in names.items()}
    return GoldFrames(**frames, demo_users=demo_listeners(spark), bases=feature_bases(spark))


def demo_listeners(spark: Any) -> set[str]:
    """Listener ids flagged ``is_demo`` in ``bronze.listeners`` (the generated demo histories)."""
    if not spark.catalog.tableExists("bronze.listeners"):
        return set()
    return {r["user_id"] for r in spark.table("bronze.listeners").where("is_demo").select("user_id").collect()}


def _mood_label(quadrant: str) -> str:
    """A quadrant as a sentence says it ("happy & energetic"), from the seed dbt uses too."""
    labels = {q.name: q.label.lower() for q in mood_quadrants()}
    return labels.get(quadrant, quadrant)


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _prefix(user: str, demo: bool) -> str:
    return f"DEMO · {user}: " if demo else f"{user}: "


def describe_dayparts(frame: pd.DataFrame) -> list[str]:
    """Which daypart is most often high-energy, and where valence is lowest."""
    out: list[str] = []
    sessions = frame[frame["sessions"] >= MIN_SESSIONS].dropna(subset=["high_energy_session_share"])
    valence = frame.dropna(subset=["mean_valence"])
    if sessions.empty or valence.empty:
        return out
    top = sessions.sort_values(["high_energy_session_share", "daypart_order"], ascending=[False, True]).iloc[0]
    low = valence.sort_values(["mean_valence", "daypart_order"]).iloc[0]
    high = valence.sort_values(["mean_valence", "daypart_order"], ascending=[False, True]).iloc[0]
    share = float(top["high_energy_session_share"])
    featured = round(top["high_energy_sessions"] / share) if share > 0 else int(top["sessions"])
    out.append(
        f"{_pct(top['high_energy_session_share'])} of {top['daypart']} sessions are high-energy "
        f"({int(top['high_energy_sessions'])} of {featured} "
        "with audio features); "
        f"{low['daypart']} valence averages {low['mean_valence']:.2f} vs {high['mean_valence']:.2f} in the {high['daypart']}."
    )
    return out


def describe_rhythm(frame: pd.DataFrame) -> list[str]:
    """The busiest weekday-hour cell and the weekend share."""
    if frame.empty:
        return []
    total = frame["plays"].sum()
    peak = frame.sort_values(["plays", "local_weekday", "local_hour"], ascending=[False, True, True]).iloc[0]
    weekend = frame[frame["local_weekday"] >= 6]["plays"].sum() / total
    by_hour = frame.groupby("local_hour")["plays"].sum()
    return [
        f"Listening peaks on {WEEKDAYS[int(peak['local_weekday'])]}s at {int(peak['local_hour']):02d}:00 "
        f"({int(peak['plays'])} plays); the busiest hour overall is {int(by_hour.idxmax()):02d}:00 "
        f"with {_pct(by_hour.max() / total)} of {int(total):,} plays, and {_pct(weekend)} fall on weekends."
    ]


def describe_recap(frame: pd.DataFrame) -> list[str]:
    """Latest year: top artist by minutes, top track by plays, mood of the year."""
    if frame.empty:
        return []
    year = int(frame["recap_year"].max())
    this_year = frame[frame["recap_year"] == year]

    def top(category: str, ranked_by: str) -> pd.Series | None:
        mask = (this_year["category"] == category) & (this_year["ranked_by"] == ranked_by) & (this_year["item_rank"] == 1)
        rows = this_year[mask]
        return None if rows.empty else rows.iloc[0]

    artist, track = top("artist", "minutes"), top("track", "plays")
    first = this_year.iloc[0]
    parts = [f"In {year} you played {int(first['year_plays']):,} tracks ({first['year_minutes'] / 60:.0f} hours)"]
    if artist is not None:
        parts.append(f"top artist by minutes: {artist['item_name']} ({artist['minutes']:.0f} min)")
    if track is not None:
        parts.append(f"most played track: {track['item_name']} ({int(track['plays'])} plays)")
    mood = first["mood_of_the_year"]
    if isinstance(mood, str):
        mask = (this_year["category"] == "mood_quadrant") & (this_year["ranked_by"] == "plays") & (this_year["item_key"] == mood)
        mood_rows = this_year[mask]
        share = mood_rows.iloc[0]["plays"] / first["year_plays"] if not mood_rows.empty else float("nan")
        parts.append(f"mood of the year: {_mood_label(mood)} ({_pct(share)} of plays)")
    return ["; ".join(parts) + "."]


def describe_genres(frame: pd.DataFrame) -> list[str]:
    """Your top genre against its catalog share, and genres that fit your sound but you skip."""
    genres = frame[frame["genre_level"] == "genre"]
    if genres.empty:
        return []
    out: list[str] = []
    top = genres.sort_values(["user_share", "genre"], ascending=[False, True]).iloc[0]
    out.append(
        f"Your top genre is {top['genre']}: {_pct(top['user_share'])} of your plays vs {_pct(top['catalog_share'])} "
        f"of the catalog ({top['share_lift']:.1f}x)."
    )
    fits = frame[frame["is_fit_but_unplayed"]].sort_values(["fit_score", "genre"], ascending=[False, True])
    label = "never play"
    if fits.empty:
        fits = frame[frame["is_fit_but_underplayed"]].sort_values(["fit_score", "genre"], ascending=[False, True])
        label = "rarely play"
    if not fits.empty:
        named = ", ".join(
            f"{r['genre']} (fit {r['fit_score']:.2f}, {_pct(r['user_share'])} of plays)" for _, r in fits.head(3).iterrows()
        )
        out.append(f"Genres whose sound fits yours but you {label}: {named}.")
    return out


def describe_streaks(daily: pd.DataFrame, streaks: pd.DataFrame) -> list[str]:
    """How many low-valence days and streaks; the longest one with its dates."""
    if daily.empty:
        return []
    low_days = int(daily["is_low_valence_day"].sum())
    text = f"{low_days} of {len(daily)} listening days had low-valence music"
    if streaks.empty:
        return [text + ", with no run of several such days in a row."]
    longest = streaks.sort_values(["days", "started_on"], ascending=[False, False]).iloc[0]
    ongoing = " and is still going" if bool(longest["is_ongoing"]) else ""
    return [
        f"{text}; {len(streaks)} streak(s) of consecutive low-valence days, the longest {int(longest['days'])} days "
        f"from {longest['started_on']} to {longest['ended_on']} (mean valence {longest['mean_valence']:.2f}){ongoing}."
    ]


def diagnose_correlations(frame: pd.DataFrame, limit: int = 3) -> list[str]:
    """The strongest significant correlations (95% CI excludes 0), overall first, then by daypart."""
    out: list[str] = []
    significant = frame[frame["is_significant"] & frame["r"].notna()].copy()
    if significant.empty:
        overall = frame[(frame["daypart"] == "all") & frame["r"].notna()]
        if overall.empty:
            return out
        best = overall.loc[overall["r"].abs().idxmax()]
        return [
            f"No audio feature is clearly linked to {OUTCOME_WORDS[best['outcome']]}: the strongest, {best['feature']}, "
            f"has r = {best['r']:.2f} (95% CI {best['ci_low']:.2f} to {best['ci_high']:.2f}, n = {int(best['n']):,})."
        ]
    significant["strength"] = significant["r"].abs()
    overall = significant[significant["daypart"] == "all"].sort_values(["strength", "feature"], ascending=[False, True])
    seen: set[str] = set()
    for _, row in overall.iterrows():
        if row["outcome"] in seen:
            continue
        seen.add(row["outcome"])
        direction = "rise" if row["r"] > 0 else "fall"
        if row["outcome"] == "completion":
            direction += "s"
        unit = "tracks" if row["outcome"] == "play_count" else "plays"
        out.append(
            f"{OUTCOME_SUBJECT[row['outcome']]} {direction} with {row['feature']}: r = {row['r']:.2f} "
            f"(95% CI {row['ci_low']:.2f} to {row['ci_high']:.2f}, n = {int(row['n']):,} {unit})."
        )
        if len(out) >= limit:
            break
    dayparts = significant[significant["daypart"] != "all"].sort_values(["strength", "feature"], ascending=[False, True])
    if not dayparts.empty:
        row = dayparts.iloc[0]
        same = frame[(frame["daypart"] == "all") & (frame["feature"] == row["feature"]) & (frame["outcome"] == row["outcome"])]
        overall_r = f"; overall r = {same.iloc[0]['r']:.2f}" if not same.empty and pd.notna(same.iloc[0]["r"]) else ""
        out.append(
            f"In the {row['daypart']}, {row['feature']} vs {OUTCOME_WORDS[row['outcome']]} gives r = {row['r']:.2f} "
            f"(95% CI {row['ci_low']:.2f} to {row['ci_high']:.2f}, n = {int(row['n']):,}){overall_r}."
        )
    return out


def diagnose_feature_gap(frame: pd.DataFrame) -> list[str]:
    """The feature where the listener's plays differ most from the catalog, in catalog SDs."""
    gaps = frame.dropna(subset=["standardized_gap"])
    if gaps.empty:
        return []
    row = gaps.loc[gaps["standardized_gap"].abs().idxmax()]
    more = "higher" if row["standardized_gap"] > 0 else "lower"
    return [
        f"Compared with the catalog your plays have {more} {row['feature']}: "
        f"mean {row['user_mean']:.2f} vs {row['catalog_mean']:.2f} "
        f"({row['standardized_gap']:+.1f} SD); {_pct(row['share_above_catalog_median'])} of your plays "
        "are above the catalog median."
    ]


def with_base(sentence: str, base: FeatureBase | None) -> str:
    """A sentence built on audio features, ending with the share of listening it rests on."""
    if base is None:
        return sentence
    body = sentence[:-1] if sentence.endswith(".") else sentence
    return f"{body} ({base.phrase()})."


def describe_coverage(base: FeatureBase | None) -> list[str]:
    """What the audio-feature sentences rest on, said first and plainly."""
    if base is None or not base.plays:
        return []
    return [
        f"The catalogs give audio features to {_pct(base.minute_share)} of your listening minutes "
        f"({base.track_level_plays:,} of {base.plays:,} music plays); mood and audio-feature numbers rest on "
        "those plays, counts and times on all of them."
    ]


def build_insights(gold: GoldFrames, demo: bool) -> dict[str, list[str]]:
    """Sentences for every listener, grouped by analytics type."""
    insights: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for user in gold.users:
        prefix = _prefix(user, demo or user in gold.demo_users)

        def of(frame: pd.DataFrame, user: str = user) -> pd.DataFrame:
            return frame[frame["user_id"] == user]

        base = gold.bases.get(user)

        def based(sentences: list[str], base: FeatureBase | None = base) -> list[str]:
            return [with_base(s, base) for s in sentences]

        descriptive = (
            describe_coverage(base)
            + based(describe_dayparts(of(gold.daypart)))
            + describe_rhythm(of(gold.hour_weekday))
            + based(describe_recap(of(gold.recap)))
            + based(describe_genres(of(gold.genre_gap)))
            + based(describe_streaks(of(gold.daily), of(gold.streaks)))
        )
        diagnostic = based(diagnose_correlations(of(gold.correlations)) + diagnose_feature_gap(of(gold.feature_gap)))
        insights["descriptive"] += [prefix + s for s in descriptive]
        insights["diagnostic"] += [prefix + s for s in diagnostic]
    return insights


def merge_insights(summary: dict[str, Any], insights: dict[str, list[str]]) -> None:
    """Append to summary["insights"] so stages that run later (ML) add to the same lists."""
    target = summary.setdefault("insights", {})
    for kind in KINDS:
        target.setdefault(kind, [])
        target[kind].extend(insights.get(kind, []))
