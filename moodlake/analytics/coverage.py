"""How much of each listener's listening the catalogs explain, per rung of the matching ladder.

dbt computes it (``gold.mart_listening_coverage`` per listener, year and match level;
``gold.mart_unmatched_top`` for what the catalogs miss); this module only reads those marts and shapes
them for `moodlake coverage`, `moodlake status`, summary.json, the report and the insight sentences,
so every number built on audio features can say which share of the listening it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

COVERAGE_MART = "gold.mart_listening_coverage"
UNMATCHED_MART = "gold.mart_unmatched_top"
#: The matching ladder, best first (the values of fct_plays.match_level).
LEVELS: tuple[str, ...] = ("track_id", "track_name", "artist", "unknown")
#: Levels whose plays carry the track's own audio features (analyses use these by default).
TRACK_LEVELS: tuple[str, ...] = ("track_id", "track_name")


@dataclass(frozen=True)
class FeatureBase:
    """The share of a listener's music that track-level audio features cover."""

    plays: int
    minutes: float
    track_level_plays: int
    track_level_minutes: float

    @property
    def play_share(self) -> float:
        return self.track_level_plays / self.plays if self.plays else 0.0

    @property
    def minute_share(self) -> float:
        return self.track_level_minutes / self.minutes if self.minutes else 0.0

    @classmethod
    def of(cls, item: dict[str, Any]) -> FeatureBase:
        """The base of one listener's :func:`coverage` entry (track levels, all years)."""
        return cls(
            plays=item["plays"], minutes=item["minutes"],
            track_level_plays=sum(item["by_level"][level] for level in TRACK_LEVELS),
            track_level_minutes=sum(item["minutes_by_level"][level] for level in TRACK_LEVELS),
        )

    def phrase(self) -> str:
        """How a sentence states its base: "from 47% of your listening minutes"."""
        return f"from {self.minute_share:.0%} of your listening minutes"


def _round(value: float) -> float:
    return round(float(value), 1)


def _levels(rows: list[dict[str, Any]], field: str, cast: type) -> dict[str, Any]:
    out = {level: cast(0) for level in LEVELS}
    for row in rows:
        out[row["match_level"]] += cast(row[field])
    return {k: (_round(v) if cast is float else v) for k, v in out.items()}


def coverage(spark: SparkSession, user: str | None = None, top: int = 20) -> list[dict[str, Any]]:
    """Per listener: plays and minutes in total and per match level (all years, and per year), and the top
    unmatched artists and tracks by minutes. Empty when Gold is not built yet."""
    if not spark.catalog.tableExists(COVERAGE_MART):
        return []
    marts = spark.table(COVERAGE_MART)
    if user:
        marts = marts.where(F.col("user_id") == user)
    rows = [r.asDict() for r in marts.orderBy("user_id", "local_year", "level_order").collect()]
    unmatched: list[dict[str, Any]] = []
    if spark.catalog.tableExists(UNMATCHED_MART):
        top_rows = spark.table(UNMATCHED_MART).where(F.col("rank") <= top)
        if user:
            top_rows = top_rows.where(F.col("user_id") == user)
        unmatched = [r.asDict() for r in top_rows.orderBy("user_id", "kind", "rank").collect()]
    listeners: list[dict[str, Any]] = []
    for user_id in sorted({r["user_id"] for r in rows}):
        mine = [r for r in rows if r["user_id"] == user_id]
        years = sorted({r["local_year"] for r in mine})
        missing = [r for r in unmatched if r["user_id"] == user_id]
        listeners.append({
            "user_id": user_id,
            "plays": sum(r["plays"] for r in mine),
            "minutes": _round(sum(r["minutes"] for r in mine)),
            "by_level": _levels(mine, "plays", int),
            "minutes_by_level": _levels(mine, "minutes", float),
            "by_year": [
                {"year": year, "plays": sum(r["plays"] for r in mine if r["local_year"] == year),
                 "by_level": _levels([r for r in mine if r["local_year"] == year], "plays", int),
                 "minutes_by_level": _levels([r for r in mine if r["local_year"] == year], "minutes", float)}
                for year in years
            ],
            "top_unmatched_artists": [
                {"artist_name": r["artist_name"], "plays": int(r["plays"]), "minutes": _round(r["minutes"]),
                 "match_level": r["match_level"]}
                for r in missing if r["kind"] == "artist"
            ],
            "top_unmatched_tracks": [
                {"artist_name": r["artist_name"], "track_name": r["track_name"], "plays": int(r["plays"]),
                 "minutes": _round(r["minutes"]), "match_level": r["match_level"]}
                for r in missing if r["kind"] == "track"
            ],
        })
    return listeners


def feature_bases(spark: SparkSession) -> dict[str, FeatureBase]:
    """Per listener, the base every audio-feature number rests on (track-level matches, all years)."""
    return {item["user_id"]: FeatureBase.of(item) for item in coverage(spark, top=0)}
