"""A small, deterministic Gold layer written with Spark, shaped like docs/CONTRACTS.md.

Why: serving tests and dashboard screenshots must not wait for (or depend on) the whole pipeline,
yet they need every table the serving views and dashboards read. Marts are derived from the sample
plays with Spark SQL so that numbers across dashboards agree with each other.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from moodlake.core.vocabulary import audio_features, dayparts, mood_quadrants, mood_thresholds

GENRES = ["pop", "rock", "rap", "edm", "latin", "r&b"]
DAYPARTS = [(min(part.hours), part.name) for part in dayparts()]
#: explanation rows name the first three audio features of the shared list
FEATURES = list(audio_features()[:3])
#: the matching ladder's mix in the sample plays (fct_plays.match_level): most plays match a catalog track by
#: id, some by artist + title, some only to a catalog artist, some to nothing
MATCH_MIX = {"track_id": 55, "track_name": 10, "artist": 20, "unknown": 15}
OLDER_MIX = {"track_id": 40, "track_name": 15, "artist": 20, "unknown": 25}
#: the columns that only a catalog TRACK provides (null for artist and unknown plays, as in fct_plays)
TRACK_ONLY = ("genre", "valence", "energy", "danceability", "acousticness", "tempo", "mood_quadrant", "completion_ratio")


def _quadrant(valence: float, energy: float) -> str:
    """The sample track's quadrant from the seed's sides and the dbt vars' thresholds (one definition)."""
    limits = mood_thresholds()
    sides = ("high" if valence >= limits.valence else "low", "high" if energy >= limits.energy else "low")
    return next(q.name for q in mood_quadrants() if (q.valence_side, q.energy_side) == sides)


def _daypart(hour: int) -> str:
    return next(part.name for part in dayparts() if hour in part.hours)


def sample_tables(n_tracks: int = 120, n_plays: int = 1500, seed: int = 7, n_earlier: int = 500) -> dict[str, list[dict]]:
    """Rows for dim_tracks, fct_plays and the ML tables (marts are derived in SQL)."""
    rnd = random.Random(seed)
    tracks = []
    for i in range(n_tracks):
        valence, energy = round(rnd.random(), 3), round(rnd.random(), 3)
        genre = GENRES[i % len(GENRES)]
        tracks.append({
            "track_id": f"t{i:04d}", "track_name": f"Song {i}", "artist_names": f"Artist {i % 25}",
            "primary_artist_name": f"Artist {i % 25}", "popularity": rnd.randint(10, 90),
            "danceability": round(rnd.random(), 3), "energy": energy, "valence": valence,
            "acousticness": round(rnd.random(), 3), "instrumentalness": round(rnd.random() / 4, 3),
            "speechiness": round(rnd.random() / 5, 3), "liveness": round(rnd.random() / 3, 3),
            "loudness": round(-rnd.random() * 20, 2), "tempo": round(70 + rnd.random() * 100, 1),
            "primary_genre": genre, "genres": [genre], "mood_quadrant": _quadrant(valence, energy),
        })
    start = datetime(2025, 1, 1, tzinfo=UTC)
    plays, session, last = [], 0, start
    gaps = [3, 3, 4, 4, 5, 45, 180, 600]

    def play(play_id: str, played_at: datetime, session_id: str, t: dict, ms: int) -> dict:
        local = played_at + timedelta(hours=1)
        return {
            "user_id": "demo", "play_id": play_id, "played_at": played_at.replace(tzinfo=None),
            "played_at_local": local.replace(tzinfo=None), "local_date": local.date(),
            "local_hour": local.hour, "local_weekday": local.isoweekday(), "daypart": _daypart(local.hour),
            "track_id": t["track_id"], "track_name": t["track_name"], "artist_name": t["primary_artist_name"],
            "genre": t["primary_genre"], "ms_played": ms, "completion_ratio": round(min(ms / 200_000, 1.0), 3),
            "is_skipped": ms < 30_000, "valence": t["valence"], "energy": t["energy"],
            "danceability": t["danceability"], "acousticness": t["acousticness"], "tempo": t["tempo"],
            "mood_quadrant": t["mood_quadrant"], "session_id": session_id,
        }

    ladder = random.Random(seed + 1)  # its own stream: the matched plays stay as they were before the ladder
    for i in range(n_plays):
        gap = timedelta(minutes=rnd.choice(gaps))
        played_at = last + gap
        last = played_at
        if gap > timedelta(minutes=20):
            session += 1
        t = tracks[int(rnd.triangular(0, n_tracks - 1, 10))]
        ms = rnd.randint(20_000, 240_000)
        plays.append(play(f"p{i:05d}", played_at, f"s{session:04d}", t, ms))
        plays[-1].update(_match(plays[-1], ladder))
    # the late-2024 plays before them (an older export: more plays the catalogs miss), so coverage has two years
    older = random.Random(seed + 2)
    first, session = start, 0
    for i in range(n_earlier):
        gap = timedelta(minutes=older.choice(gaps))
        first -= gap
        if gap > timedelta(minutes=20):
            session += 1
        t = tracks[int(older.triangular(0, n_tracks - 1, 10))]
        plays.append(play(f"e{i:05d}", first, f"e{session:04d}", t, older.randint(20_000, 240_000)))
        plays[-1].update(_match(plays[-1], ladder, OLDER_MIX))
    modes = [
        {"user_id": "demo", "mode_id": k, "mode_name": name, "valence": v, "energy": e,
         "danceability": d, "acousticness": a, "tempo": tp, "share_of_plays": s}
        for k, (name, v, e, d, a, tp, s) in enumerate([
            ("Upbeat dance", 0.72, 0.78, 0.74, 0.10, 122.0, 0.41),
            ("Quiet focus", 0.38, 0.30, 0.45, 0.71, 92.0, 0.34),
            ("Heavy drive", 0.31, 0.82, 0.52, 0.08, 138.0, 0.25),
        ])
    ]
    schedule = [
        {"user_id": "demo", "local_weekday": day, "weekday_name": name, "daypart": part,
         "mode_id": (day + k) % 3, "mode_name": modes[(day + k) % 3]["mode_name"], "plays": rnd.randint(5, 60),
         "mode_share": round(rnd.uniform(0.4, 0.9), 3)}
        for day, name in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], 1)
        for k, (_, part) in enumerate(DAYPARTS)
    ]
    scores = [{"user_id": "demo", "track_id": t["track_id"], "preference_score": round(rnd.random(), 3)}
              for t in tracks]
    explanations = []
    for s in sorted(scores, key=lambda r: -r["preference_score"])[:20]:
        t = next(x for x in tracks if x["track_id"] == s["track_id"])
        for rank, feature in enumerate(FEATURES[:3], start=1):
            contribution = round(rnd.uniform(-0.2, 0.3), 3)
            explanations.append({
                "user_id": "demo", "track_id": t["track_id"], "rank": rank, "feature": feature,
                "value": float(t[feature]), "contribution": contribution,
                "reason": f"{feature} {'raises' if contribution > 0 else 'lowers'} the score",
            })
    recs = []
    now = datetime(2026, 1, 1)
    framing = {"mirror": "More of where you are now.", "coach": "One small step brighter at a time.",
               "discovery": "New artists in genres you enjoy.",
               "world": "You vs the world: genres the catalog plays much more than you do."}
    for mode in ("mirror", "coach", "discovery", "world"):  # the lists ml/recommend.py writes
        for rank, t in enumerate(rnd.sample(tracks, 10), start=1):
            recs.append({
                "user_id": "demo", "mode": mode, "context": "now", "rank": rank, "track_id": t["track_id"],
                "track_name": t["track_name"], "artist_name": t["primary_artist_name"], "genre": t["primary_genre"],
                "valence": t["valence"], "energy": t["energy"], "tempo": t["tempo"],
                "match_score": round(rnd.random(), 3),
                "improvement_score": round(rnd.random() / 5, 3) if mode == "coach" else 0.0,
                "reason": "close to your current mood" if mode == "mirror" else "a small step brighter",
                "framing": framing[mode], "generated_at": now,
            })
    return {"dim_tracks": tracks, "fct_plays": plays, "ml_listening_modes": modes, "ml_mode_schedule": schedule,
            "ml_track_scores": scores, "ml_track_explanations": explanations, "ml_recommendations": recs}


def _match(play: dict, rnd: random.Random, mix: dict[str, int] = MATCH_MIX) -> dict:
    """match_level and what it implies: artist-level plays are catalog artists' tracks the catalog lacks,
    unknown plays are artists it lacks altogether; neither has a catalog track, so no features or genre."""
    level = rnd.choices(list(mix), weights=list(mix.values()))[0]
    if level in ("track_id", "track_name"):
        return {"match_level": level, "has_audio_features": True}
    song = int(rnd.triangular(0, 60, 0))  # skewed, so the unmatched top lists have a clear head
    artist = f"Artist {song % 25}" if level == "artist" else f"Unlisted Artist {song % 15}"
    return {"match_level": level, "has_audio_features": False, "track_id": f"x{level[0]}{song:03d}",
            "track_name": f"{'Rare Cut' if level == 'artist' else 'Lost Song'} {song}", "artist_name": artist,
            **dict.fromkeys(TRACK_ONLY)}


_FEATURE_STACK = ("stack(5, 'valence', valence, 'energy', energy, 'danceability', danceability, "
                  "'acousticness', acousticness, 'tempo', tempo) as (feature, value)")

# The marts in the shapes models/marts/*.sql build (same columns; simpler arithmetic).
MART_SQL = {
    "fct_sessions": """
        select session_id, user_id, min(played_at) as started_at, max(played_at) as ended_at,
               min(played_at_local) as started_at_local, min_by(daypart, played_at) as daypart,
               count(*) as plays, sum(ms_played) / 60000.0 as minutes, avg(valence) as mean_valence,
               avg(energy) as mean_energy, mode(mood_quadrant) as dominant_mood_quadrant
        from gold.fct_plays group by session_id, user_id""",
    "mart_hour_weekday_profile": """
        select user_id, local_weekday, local_hour, cast(count(*) as int) as plays, sum(ms_played) / 60000.0 as minutes,
               avg(valence) as mean_valence, avg(energy) as mean_energy
        from gold.fct_plays group by user_id, local_weekday, local_hour""",
    "mart_daypart_mood": """
        select user_id, daypart, cast(count(*) as int) as plays, sum(ms_played) / 60000.0 as minutes,
               avg(valence) as mean_valence, avg(energy) as mean_energy,
               avg(case when mood_quadrant = 'happy_energetic' then 1.0 else 0.0 end) as share_happy_energetic
        from gold.fct_plays group by user_id, daypart""",
    "mart_feature_correlations": f"""
        with p as (select user_id, daypart, completion_ratio, case when is_skipped then 1.0 else 0.0 end as skipped,
                          {_FEATURE_STACK} from gold.fct_plays where has_audio_features),
             s as (select user_id, daypart as scope, feature, value, completion_ratio, skipped from p
                   union all select user_id, 'all', feature, value, completion_ratio, skipped from p),
             o as (select user_id, scope, feature, 'completion' as outcome, value, completion_ratio as y from s
                   union all select user_id, scope, feature, 'skip', value, skipped from s),
             c as (select user_id, scope as daypart, feature, outcome, cast(count(*) as int) as n,
                          corr(value, y) as r from o group by user_id, scope, feature, outcome)
        select *, r - 0.05 as ci_low, r + 0.05 as ci_high, abs(r) > 0.05 as is_significant from c""",
    "mart_genre_gap": """
        with mine as (select user_id, genre, count(*) as user_plays,
                             count(*) / sum(count(*)) over (partition by user_id) as user_share
                      from gold.fct_plays group by user_id, genre),
             world as (select primary_genre as genre, count(*) / sum(count(*)) over () as catalog_share
                       from gold.dim_tracks group by primary_genre)
        select mine.user_id, 'genre' as genre_level, mine.genre, cast(mine.user_plays as int) as user_plays,
               mine.user_share, world.catalog_share, mine.user_share - world.catalog_share as share_gap
        from mine join world using (genre)""",
    "mart_feature_gap": f"""
        with u as (select user_id, feature, count(*) as n_plays, avg(value) as user_mean
                   from (select user_id, {_FEATURE_STACK} from gold.fct_plays where has_audio_features)
                   group by user_id, feature),
             c as (select feature, avg(value) as catalog_mean, stddev(value) as catalog_stddev
                   from (select {_FEATURE_STACK} from gold.dim_tracks) group by feature)
        select u.user_id, u.feature, cast(u.n_plays as int) as n_plays, u.user_mean, c.catalog_mean,
               c.catalog_stddev, u.user_mean - c.catalog_mean as mean_gap,
               (u.user_mean - c.catalog_mean) / c.catalog_stddev as standardized_gap
        from u join c using (feature)""",
    "mart_daily_mood": """
        select user_id, local_date, cast(year(local_date) as int) as local_year, cast(count(*) as int) as plays,
               sum(ms_played) / 60000.0 as minutes, avg(valence) as mean_valence, avg(energy) as mean_energy,
               avg(case when is_skipped then 1.0 else 0.0 end) as skip_rate,
               mode(mood_quadrant) as dominant_mood_quadrant, avg(valence) < 0.35 as is_low_valence_day
        from gold.fct_plays group by user_id, local_date""",
    "mart_low_valence_streaks": """
        select 'demo' as user_id, 1 as streak_number, date'2025-02-03' as started_on, date'2025-02-06' as ended_on,
               4 as days, 31 as plays, 0.31 as mean_valence, 0.22 as min_daily_valence, false as is_ongoing
        union all
        select 'demo', 2, date'2025-03-17', date'2025-03-19', 3, 18, 0.33, 0.29, false""",
    "mart_yearly_recap": """
        with items as (
            select user_id, year(local_date) as recap_year, 'artist' as category, artist_name as item_key,
                   artist_name as item_name, count(*) as plays, sum(ms_played) / 60000.0 as minutes
            from gold.fct_plays group by 1, 2, 4, 5
            union all
            select user_id, year(local_date), 'track', track_id, track_name, count(*), sum(ms_played) / 60000.0
            from gold.fct_plays group by 1, 2, 4, 5
            union all
            select user_id, year(local_date), 'genre', genre, genre, count(*), sum(ms_played) / 60000.0
            from gold.fct_plays group by 1, 2, 4, 5),
        ranked as (
            select *, 'plays' as ranked_by, row_number() over (
                partition by user_id, recap_year, category order by plays desc, item_key) as item_rank from items
            union all
            select *, 'minutes', row_number() over (
                partition by user_id, recap_year, category order by minutes desc, item_key) from items),
        years as (
            select user_id, year(local_date) as recap_year, count(*) as year_plays,
                   sum(ms_played) / 60000.0 as year_minutes, avg(valence) as year_mean_valence,
                   avg(energy) as year_mean_energy, mode(mood_quadrant) as mood_of_the_year
            from gold.fct_plays group by 1, 2)
        select r.user_id, cast(r.recap_year as int) as recap_year, r.category, r.ranked_by,
               cast(r.item_rank as int) as item_rank, r.item_key, r.item_name, cast(r.plays as int) as plays,
               r.minutes, cast(y.year_plays as int) as year_plays, y.year_minutes, y.year_mean_valence,
               y.year_mean_energy, y.mood_of_the_year
        from ranked r join years y on r.user_id = y.user_id and r.recap_year = y.recap_year
        where r.item_rank <= 10""",
    "mart_listening_coverage": """
        with levels as (select * from values ('track_id', 1), ('track_name', 2), ('artist', 3), ('unknown', 4)
                        as levels (match_level, level_order)),
             totals as (select user_id, year(local_date) as local_year, match_level, count(*) as plays,
                               sum(ms_played) as ms_played, count_if(has_audio_features) as plays_with_track_features
                        from gold.fct_plays group by 1, 2, 3),
             years as (select user_id, local_year, sum(plays) as year_plays, sum(ms_played) as year_ms_played
                       from totals group by 1, 2)
        select y.user_id, cast(y.local_year as int) as local_year, l.match_level, cast(l.level_order as int) as level_order,
               cast(coalesce(t.plays, 0) as int) as plays, cast(coalesce(t.ms_played, 0) / 60000.0 as double) as minutes,
               cast(coalesce(t.plays_with_track_features, 0) as int) as plays_with_track_features,
               cast(coalesce(t.plays, 0) / y.year_plays as double) as play_share,
               cast(coalesce(t.ms_played, 0) / nullif(y.year_ms_played, 0) as double) as minute_share,
               cast(y.year_plays as int) as year_plays, cast(y.year_ms_played / 60000.0 as double) as year_minutes
        from years y cross join levels l
        left join totals t on y.user_id = t.user_id and y.local_year = t.local_year and l.match_level = t.match_level""",
    "mart_unmatched_top": """
        with p as (select * from gold.fct_plays where match_level in ('artist', 'unknown')),
             items as (
                 select user_id, 'artist' as kind, lower(artist_name) as item_key, mode(artist_name) as artist_name,
                        cast(null as string) as track_name, max(match_level) as match_level, count(*) as plays,
                        sum(ms_played) / 60000.0 as minutes
                 from p group by user_id, lower(artist_name)
                 union all
                 select user_id, 'track', concat_ws(' - ', lower(artist_name), lower(track_name)), mode(artist_name),
                        mode(track_name), max(match_level), count(*), sum(ms_played) / 60000.0
                 from p group by user_id, lower(artist_name), lower(track_name)),
             ranked as (select *, row_number() over (partition by user_id, kind
                                                     order by minutes desc, plays desc, item_key) as item_rank
                        from items)
        select user_id, kind, cast(item_rank as int) as rank, artist_name, track_name, match_level,
               cast(plays as int) as plays, cast(minutes as double) as minutes
        from ranked where item_rank <= 20""",
}


def _nan_to_null(df):  # type: ignore[no-untyped-def]
    """pandas holds a missing float as NaN; Gold holds null (the features of plays without a track)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    return df.select([
        F.when(~F.isnan(f.name), F.col(f.name)).alias(f.name) if isinstance(f.dataType, DoubleType | FloatType)
        else F.col(f.name) for f in df.schema.fields])


def write_sample_gold(spark: SparkSession, warehouse: Path, only: list[str] | None = None) -> list[str]:
    """Write the sample Gold tables as Delta folders ``<warehouse>/gold.db/<table>``; returns the names.

    By path, not ``saveAsTable``: the test session's metastore is shared with the pipeline's tests,
    whose own ``gold.fct_plays`` must not be overwritten by this sample (and vice versa).
    """
    import pandas as pd

    gold = warehouse / "gold.db"
    written = []

    def save(df, name: str) -> None:  # type: ignore[no-untyped-def]
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(str(gold / name))
        written.append(name)

    for name, rows in sample_tables().items():
        if only is None or name in only:
            save(_nan_to_null(spark.createDataFrame(pd.DataFrame(rows))), name)
    for name, sql in MART_SQL.items():
        if only is None or name in only:
            for table in ("fct_plays", "dim_tracks"):
                sql = sql.replace(f"gold.{table}", f"delta.`{gold / table}`")
            save(spark.sql(sql), name)
    return written
