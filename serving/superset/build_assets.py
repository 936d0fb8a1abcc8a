"""Generate Moodlake's Superset assets (YAML, committed under ``assets/``) from one compact spec.

Why generate: Superset's v1 bundle format repeats uuids, chart ids and layout trees in several files;
hand-editing them invites the import gotchas in shared/notes/superset.md (missing ``chartId``, rows
wider than 12, uuids that drift). This spec is the single place to change a chart; run
``python serving/superset/build_assets.py [--trino-port N]`` and commit ``assets/``. With a running
Trino the dataset columns are read from the serving views; otherwise they are left to the import,
which refreshes every dataset's columns from Trino anyway.

All times are the listener's local time: charts group by ``played_at_local``/``local_*`` columns
that the Gold layer derives from the listener's IANA time zone.
"""

from __future__ import annotations

import argparse
import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
NS = uuid.UUID("5b0a3f9e-5d2c-4c8e-9a59-6d6f6f646c6b")  # fixed: uuids must never change (G7)
DB_NAME = "moodlake_trino"
SCHEMA = "serving"


def uid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NS, f"{kind}:{name}"))


def sql_metric(label: str, expr: str) -> dict[str, Any]:
    """An ad-hoc SQL metric, for datasets whose columns other stages still shape."""
    return {"expressionType": "SQL", "sqlExpression": expr, "label": label, "hasCustomLabel": True,
            "optionName": f"metric_{label}"}


def sql_filter(expr: str) -> dict[str, Any]:
    return {"expressionType": "SQL", "sqlExpression": expr, "clause": "WHERE",
            "filterOptionName": "filter_" + uid("filter", expr)[:8]}


# ---- datasets: serving views and their saved metrics ------------------------------------------
DATASETS: dict[str, dict[str, Any]] = {
    "plays": {
        "dttm": "played_at_local",
        "metrics": {
            "plays": ("COUNT(*)", "Plays"),
            "minutes": ("SUM(minutes_played)", "Minutes"),
            "distinct_tracks": ("COUNT(DISTINCT track_id)", "Distinct tracks"),
            "mean_valence": ("AVG(valence)", "Mean valence"),
            "mean_energy": ("AVG(energy)", "Mean energy"),
            "skip_rate": ("AVG(CASE WHEN is_skipped THEN 1.0 ELSE 0.0 END)", "Skip rate"),
        },
    },
    "tracks": {"metrics": {"mean_valence": ("AVG(valence)", "Mean valence"),
                           "mean_energy": ("AVG(energy)", "Mean energy"),
                           "tracks": ("COUNT(*)", "Tracks")}},
    "sessions": {"dttm": "started_at_local", "metrics": {"sessions": ("COUNT(*)", "Sessions")}},
    "daily_mood": {"dttm": "local_date", "metrics": {}},
    "feature_correlations": {"metrics": {}},
    "genre_gap": {"metrics": {}},
    "yearly_recap": {"metrics": {}},
    "feature_gap": {"metrics": {}},
    "low_valence_streaks": {"dttm": "started_on", "metrics": {}},
    "listening_modes": {"metrics": {}},
    "mode_schedule": {"metrics": {"plays": ("SUM(plays)", "Plays")}},
    "track_scores": {"metrics": {"mean_score": ("AVG(preference_score)", "Mean preference score")}},
    "track_explanations": {"metrics": {"mean_contribution": ("AVG(contribution)", "Mean contribution")}},
    "recommendations": {"dttm": "generated_at", "metrics": {}},
    # coverage of the matching ladder (gold.mart_listening_coverage / mart_unmatched_top): columns are
    # spelled out so the YAML is complete even when the assets are built with no Trino running
    "listening_coverage": {
        "metrics": {"minutes": ("SUM(minutes)", "Minutes"), "plays": ("SUM(plays)", "Plays")},
        "columns": {"user_id": "VARCHAR", "local_year": "INTEGER", "match_level": "VARCHAR",
                    "level_order": "INTEGER", "plays": "INTEGER", "minutes": "DOUBLE",
                    "plays_with_track_features": "INTEGER", "play_share": "DOUBLE", "minute_share": "DOUBLE",
                    "year_plays": "INTEGER", "year_minutes": "DOUBLE"},
    },
    "unmatched_top": {
        "metrics": {"minutes": ("SUM(minutes)", "Minutes"), "plays": ("SUM(plays)", "Plays")},
        "columns": {"user_id": "VARCHAR", "kind": "VARCHAR", "rank": "INTEGER", "artist_name": "VARCHAR",
                    "track_name": "VARCHAR", "match_level": "VARCHAR", "plays": "INTEGER", "minutes": "DOUBLE"},
    },
}

# The matching ladder as people read it, in ladder order. Superset orders a chart's series by name, so
# the rung number leads the label (as "1 Mon" does for weekdays); the colours go from exact to unknown.
LADDER = [("track_id", "1 track id", "#1f7a4d"), ("track_name", "2 artist + title", "#74c08f"),
          ("artist", "3 artist estimate only", "#f0b23e"), ("unknown", "4 unknown", "#a3a8ad")]
TRACK_LEVEL = "level_order <= 2"  # track_id or track_name: the plays with a catalog TRACK
COVERAGE_BY_LEVEL = [sql_metric(label, f"SUM(CASE WHEN match_level = '{level}' THEN minutes ELSE 0 END)")
                     for level, label, _ in LADDER]
UNMATCHED_LABEL = {"expressionType": "SQL", "label": "covered by",
                   "sqlExpression": "CASE match_level WHEN 'artist' THEN 'artist estimate' ELSE 'nothing' END"}
ARTIST = {"expressionType": "SQL", "label": "artist", "sqlExpression": "artist_name"}
TRACK = {"expressionType": "SQL", "label": "track", "sqlExpression": "track_name"}

# ---- charts: name -> (dataset, viz_type, params) --------------------------------------------
BAR = {"viz_type": "echarts_timeseries_bar", "orientation": "vertical", "row_limit": 1000, "show_legend": True,
       "rich_tooltip": True, "x_axis_sort_asc": True, "truncate_metric": True, "comparison_type": "values",
       "y_axis_format": "SMART_NUMBER", "x_axis_title_margin": 15, "y_axis_title_margin": 15}
TABLE = {"viz_type": "table", "query_mode": "aggregate", "order_desc": True, "row_limit": 15,
         "include_search": False, "show_cell_bars": True, "table_timestamp_format": "smart_date"}
RAW = {"viz_type": "table", "query_mode": "raw", "row_limit": 20, "include_search": False,
       "table_timestamp_format": "smart_date", "show_cell_bars": False}
PIE = {"viz_type": "pie", "row_limit": 12, "show_legend": True, "show_labels": True, "label_type": "percent",
       "donut": True, "sort_by_metric": True, "number_format": "SMART_NUMBER", "legendOrientation": "right"}
BIG = {"viz_type": "big_number_total", "y_axis_format": "SMART_NUMBER", "header_font_size": 0.3,
       "subheader_font_size": 0.125}
LINE = {"viz_type": "echarts_timeseries_line", "row_limit": 10000, "show_legend": True, "rich_tooltip": True,
        "y_axis_format": "SMART_NUMBER", "markerEnabled": False, "truncate_metric": True, "comparison_type": "values"}

CHARTS: dict[str, tuple[str, dict[str, Any]]] = {
    # Listening overview
    "Plays": ("plays", {**BIG, "metric": "plays", "subheader": "plays in total"}),
    "Minutes listened": ("plays", {**BIG, "metric": "minutes", "subheader": "minutes in total"}),
    "Distinct tracks": ("plays", {**BIG, "metric": "distinct_tracks", "subheader": "different tracks"}),
    "When you listen (local hour x weekday)": ("plays", {
        "viz_type": "heatmap_v2", "x_axis": "local_hour", "groupby": "weekday_label", "metric": "plays",
        "row_limit": 10000, "sort_x_axis": "alpha_asc", "sort_y_axis": "alpha_asc",
        "normalize_across": "heatmap", "linear_color_scheme": "blue_white_yellow", "show_legend": True,
        "show_values": False, "xscale_interval": -1, "yscale_interval": -1, "left_margin": "auto",
        "bottom_margin": "auto", "value_bounds": [None, None], "y_axis_format": "SMART_NUMBER",
        "x_axis_title": "local hour"}),
    "Mood by daypart": ("plays", {**BAR, "x_axis": "daypart", "metrics": ["plays"], "groupby": ["mood_quadrant"],
                                  "stack": "Stack", "x_axis_title": "daypart (local time)"}),
    "Genre share (minutes)": ("plays", {**PIE, "groupby": ["genre"], "metric": "minutes"}),
    "Top artists": ("plays", {**TABLE, "groupby": ["artist_name"], "metrics": ["plays", "minutes"],
                              "timeseries_limit_metric": "plays"}),
    "Top tracks": ("plays", {**TABLE, "groupby": ["track_name", "artist_name"], "metrics": ["plays", "minutes"],
                             "timeseries_limit_metric": "minutes"}),
    "Minutes per year by match level": ("listening_coverage", {
        **BAR, "x_axis": "local_year", "groupby": [], "metrics": COVERAGE_BY_LEVEL, "stack": "Stack",
        "xAxisForceCategorical": True, "sort_series_type": "name", "sort_series_ascending": True,
        "x_axis_title": "year (local time)"}),
    "Minutes matched to a track": ("listening_coverage", {
        **BIG, "y_axis_format": ".0%", "subheader": "of minutes: track id or artist + title",
        "metric": sql_metric("track-level share",
                             f"SUM(CASE WHEN {TRACK_LEVEL} THEN minutes ELSE 0 END) / NULLIF(SUM(minutes), 0)")}),
    "Top unmatched artists (minutes)": ("unmatched_top", {
        **TABLE, "groupby": [ARTIST, UNMATCHED_LABEL], "metrics": ["minutes", "plays"],
        "timeseries_limit_metric": "minutes", "row_limit": 25, "adhoc_filters": [sql_filter("kind = 'artist'")],
        "column_config": {"minutes": {"d3NumberFormat": ",.0f"}}}),
    "Top unmatched tracks (minutes)": ("unmatched_top", {
        **TABLE, "groupby": [TRACK, ARTIST, UNMATCHED_LABEL], "metrics": ["minutes", "plays"],
        "timeseries_limit_metric": "minutes", "row_limit": 25, "adhoc_filters": [sql_filter("kind = 'track'")],
        "column_config": {"minutes": {"d3NumberFormat": ",.0f"}}}),
    # Why
    "Audio features vs how you listen (all day)": ("feature_correlations", {
        **BAR, "x_axis": "feature", "metrics": [sql_metric("r", "AVG(r)")], "groupby": ["outcome"],
        "adhoc_filters": [sql_filter("daypart = 'all'")], "y_axis_title": "Pearson r"}),
    "Correlations with 95% intervals": ("feature_correlations", {
        **RAW, "all_columns": ["feature", "outcome", "r", "ci_low", "ci_high", "n", "is_significant"],
        "column_config": {c: {"d3NumberFormat": ".3f"} for c in ("r", "ci_low", "ci_high")},
        "adhoc_filters": [sql_filter("daypart = 'all'")],
        "order_by_cols": ['["outcome", true]', '["feature", true]'], "row_limit": 40}),
    "Skipping vs features by daypart (r)": ("feature_correlations", {
        "viz_type": "heatmap_v2", "x_axis": "daypart", "groupby": "feature", "metric": sql_metric("r", "AVG(r)"),
        "adhoc_filters": [sql_filter("outcome = 'skip' and daypart <> 'all'")], "row_limit": 1000,
        "sort_x_axis": "alpha_asc", "sort_y_axis": "alpha_asc", "normalize_across": "heatmap",
        "linear_color_scheme": "blue_white_yellow", "show_legend": True, "show_values": True,
        "xscale_interval": -1, "yscale_interval": -1, "left_margin": "auto", "bottom_margin": "auto",
        "value_bounds": [None, None], "y_axis_format": ".2f"}),
    "Low-valence streaks": ("low_valence_streaks", {
        **RAW, "all_columns": ["started_on", "ended_on", "days", "plays", "mean_valence", "is_ongoing"],
        "order_by_cols": ['["started_on", false]'], "row_limit": 20}),
    "Skip rate by mood": ("plays", {**BAR, "x_axis": "mood_quadrant", "metrics": ["skip_rate"], "groupby": [],
                                    "y_axis_format": ".0%"}),
    "Mood over time (weekly)": ("daily_mood", {
        **LINE, "x_axis": "local_date", "time_grain_sqla": "P1W",
        "metrics": [sql_metric("valence", "AVG(mean_valence)"), sql_metric("energy", "AVG(mean_energy)")]}),
    # Modes & predictions
    "Listening modes": ("listening_modes", {
        **PIE, "groupby": ["mode_name"], "metric": sql_metric("share", "SUM(share_of_plays)")}),
    "Mode centroids": ("listening_modes", {
        **RAW, "all_columns": ["mode_name", "share_of_plays", "valence", "energy", "danceability",
                               "acousticness", "tempo"],
        "column_config": {"share_of_plays": {"d3NumberFormat": ".0%"}, "tempo": {"d3NumberFormat": ".0f"},
                          **{c: {"d3NumberFormat": ".2f"} for c in ("valence", "energy", "danceability", "acousticness")}}}),
    "Modes across the week (dominant mode per daypart)": ("mode_schedule", {
        **BAR, "x_axis": "weekday_label", "metrics": ["plays"], "groupby": ["mode_name"], "stack": "Stack",
        "x_axis_title": "local weekday"}),
    "Mode schedule": ("mode_schedule", {
        **RAW, "all_columns": ["weekday_label", "daypart", "mode_name", "mode_share"],
        "column_config": {"mode_share": {"d3NumberFormat": ".0%"}},
        "order_by_cols": ['["weekday_label", true]', '["daypart", true]'], "row_limit": 28}),
    "Highest preference scores": ("track_scores", {
        **RAW, "all_columns": ["track_name", "artist_name", "genre", "preference_score"],
        "column_config": {"preference_score": {"d3NumberFormat": ".3f"}},
        "order_by_cols": ['["preference_score", false]'], "row_limit": 15}),
    "Preference by genre": ("track_scores", {**BAR, "x_axis": "genre", "metrics": ["mean_score"], "groupby": []}),
    # Recommendations & explanations
    "Mirror: more of where you are": ("recommendations", {
        **RAW, "all_columns": ["rank", "track_name", "artist_name", "genre", "mood_quadrant", "reason"],
        "adhoc_filters": [sql_filter("mode = 'mirror'")], "order_by_cols": ['["rank", true]']}),
    "Coach: one small step brighter": ("recommendations", {
        **RAW, "all_columns": ["rank", "track_name", "artist_name", "valence", "energy", "reason"],
        "adhoc_filters": [sql_filter("mode = 'coach'")], "order_by_cols": ['["rank", true]']}),
    "Discovery: new artists in genres you enjoy": ("recommendations", {
        **RAW, "all_columns": ["rank", "track_name", "artist_name", "genre", "reason"],
        "adhoc_filters": [sql_filter("mode = 'discovery'")], "order_by_cols": ['["rank", true]']}),
    "What drives the scores (mean SHAP contribution)": ("track_explanations", {
        **BAR, "x_axis": "feature", "metrics": ["mean_contribution"], "groupby": []}),
    "Explanations per track": ("track_explanations", {
        **RAW, "all_columns": ["track_name", "rank", "feature", "value", "contribution", "reason"],
        "column_config": {"value": {"d3NumberFormat": ",.3~f"}, "contribution": {"d3NumberFormat": "+.3f"}},
        "order_by_cols": ['["track_name", true]', '["rank", true]'], "row_limit": 30}),
    # You vs the world
    "Genre share: you vs the catalog": ("genre_gap", {
        **BAR, "x_axis": "genre", "groupby": [],
        "metrics": [sql_metric("you", "AVG(user_share)"), sql_metric("catalog", "AVG(catalog_share)")],
        "adhoc_filters": [sql_filter("genre_level = 'genre'")], "y_axis_format": ".0%"}),
    "Your sound vs the catalog (standard deviations)": ("feature_gap", {
        **BAR, "x_axis": "feature", "groupby": [], "metrics": [sql_metric("gap", "AVG(standardized_gap)")],
        "y_axis_format": ".2f", "y_axis_title": "you minus catalog, in catalog SDs"}),
    "From genres the world plays more than you": ("recommendations", {
        **RAW, "all_columns": ["rank", "track_name", "artist_name", "genre", "reason"],
        "adhoc_filters": [sql_filter("mode = 'world'")], "order_by_cols": ['["rank", true]']}),
    "Where your suggestions sit on the mood plane": ("recommendations", {
        **BAR, "x_axis": "mode", "metrics": [sql_metric("tracks", "COUNT(*)")], "groupby": ["mood_quadrant"],
        "stack": "Stack"}),
    "Your mean valence": ("plays", {**BIG, "metric": "mean_valence", "subheader": "you (plays with audio features)",
                                    "y_axis_format": ".2f"}),
    "Catalog mean valence": ("tracks", {**BIG, "metric": "mean_valence", "subheader": "the catalog",
                                        "y_axis_format": ".2f"}),
    "Your mean energy": ("plays", {**BIG, "metric": "mean_energy", "subheader": "you (plays with audio features)",
                                   "y_axis_format": ".2f"}),
    "Catalog mean energy": ("tracks", {**BIG, "metric": "mean_energy", "subheader": "the catalog",
                                       "y_axis_format": ".2f"}),
    # Year in review
    "Your years": ("yearly_recap", {
        **TABLE, "groupby": ["recap_year", "mood_of_the_year"], "row_limit": 20, "show_cell_bars": False,
        "metrics": [sql_metric("plays", "MAX(year_plays)"), sql_metric("minutes", "MAX(year_minutes)"),
                    sql_metric("mean valence", "MAX(year_mean_valence)"),
                    sql_metric("mean energy", "MAX(year_mean_energy)")],
        "timeseries_limit_metric": sql_metric("year", "MAX(recap_year)")}),
    "Top artists per year (minutes)": ("yearly_recap", {
        **RAW, "all_columns": ["recap_year", "item_rank", "item_name", "minutes", "plays"],
        "column_config": {"minutes": {"d3NumberFormat": ",.0f"}},
        "adhoc_filters": [sql_filter("category = 'artist' and ranked_by = 'minutes' and item_rank <= 5")],
        "order_by_cols": ['["recap_year", false]', '["item_rank", true]'], "row_limit": 50}),
    "Top tracks per year (plays)": ("yearly_recap", {
        **RAW, "all_columns": ["recap_year", "item_rank", "item_name", "plays", "minutes"],
        "column_config": {"minutes": {"d3NumberFormat": ",.0f"}},
        "adhoc_filters": [sql_filter("category = 'track' and ranked_by = 'plays' and item_rank <= 5")],
        "order_by_cols": ['["recap_year", false]', '["item_rank", true]'], "row_limit": 50}),
    "Minutes per month": ("plays", {**BAR, "x_axis": "played_at_local", "time_grain_sqla": "P1M",
                                    "metrics": ["minutes"], "groupby": []}),
    "Moods per year": ("plays", {**BAR, "x_axis": "local_year", "metrics": ["plays"], "groupby": ["mood_quadrant"],
                                 "stack": "Stack"}),
}

# Shown titles where they differ from the internal name (the internal name keeps the chart's uuid and file
# stable): charts that average audio features say on what base, since only plays matched to a catalog TRACK
# (track id or artist + title) have them.
TITLES: dict[str, str] = {
    "Mood over time (weekly)": "Mood over time (weekly, plays with audio features)",
    "Audio features vs how you listen (all day)": "Audio features vs how you listen (all day, plays with features)",
    "Skipping vs features by daypart (r)": "Skipping vs features by daypart (r, plays with features)",
    "Your sound vs the catalog (standard deviations)": "Your sound vs the catalog (SDs, plays with features)",
}
_BASE = "Plays with audio features only (matched to a catalog track by id or artist + title)."
_QUADRANT = "All plays by the mood quadrant of their track; 'unknown' = plays without audio features."
DESCRIPTIONS: dict[str, str] = {
    "Mood by daypart": _QUADRANT,
    "Skip rate by mood": _QUADRANT,
    "Moods per year": _QUADRANT,
    "Audio features vs how you listen (all day)": _BASE,
    "Correlations with 95% intervals": _BASE,
    "Skipping vs features by daypart (r)": _BASE,
    "Low-valence streaks": "Days' mean valence over plays with audio features.",
    "Mood over time (weekly)": _BASE,
    "Listening modes": "Clustered from plays with audio features.",
    "Mode centroids": "Clustered from plays with audio features.",
    "Modes across the week (dominant mode per daypart)": "Clustered from plays with audio features.",
    "Mode schedule": "Clustered from plays with audio features.",
    "Your mean valence": _BASE,
    "Your mean energy": _BASE,
    "Your sound vs the catalog (standard deviations)": (
        "You: plays with audio features (matched to a catalog track); the catalog: its tracks."),
    "Your years": "Mean valence and energy: plays with audio features.",
    "Minutes per year by match level": (
        "How each year's minutes were matched to the catalogs: by track id, by artist + title, only to the artist "
        "(an artist-average estimate, not used by the mood charts), or not at all."),
    "Minutes matched to a track": "Share of minutes with a catalog track (track id or artist + title).",
    "Top unmatched artists (minutes)": "Artists of the plays without a track-level match, by minutes.",
    "Top unmatched tracks (minutes)": "Tracks without a track-level match, by minutes.",
}

COVERAGE_NOTE = ("**Catalog coverage.** Each play is matched to the catalogs down a ladder: **track id**, then "
                 "**artist + title**, then an **artist estimate only**, else **unknown**. Mood and audio-feature "
                 "charts use only plays matched to a track (the first two rungs).")

STREAKS_NOTE = ("Low-valence streaks are runs of days whose music was, on average, low in valence. They describe "
                "the music, not you, and are here for reflection only.")
REFLECTION = ("These suggestions help you reflect on your listening. They are not a diagnosis or advice. "
              "*Mirror* stays close to your current mood; *Coach* moves valence and energy one small step.")

DEMO_NOTE = ("**DEMO data:** listeners named `demo-…` are synthetic histories that `make run` generates; "
             "they are not a real person's listening. Your own listeners appear under the ids you ingested.")

# ---- dashboards: slug -> (title, rows of (chart, width) or ("#markdown", text, width)) ---------
DASHBOARDS: dict[str, tuple[str, list[list[tuple]]]] = {
    "listening-overview": ("Listening overview", [
        [("Plays", 4), ("Minutes listened", 4), ("Distinct tracks", 4)],
        [("When you listen (local hour x weekday)", 12)],
        [("Mood by daypart", 6), ("Genre share (minutes)", 6)],
        [("Top artists", 6), ("Top tracks", 6)],
        [("#markdown", COVERAGE_NOTE, 12, 10)],
        [("Minutes per year by match level", 8, 50), ("Minutes matched to a track", 4, 50)],
        [("Top unmatched artists (minutes)", 5, 55), ("Top unmatched tracks (minutes)", 7, 55)],
    ]),
    "why": ("Why: what goes with your listening", [
        [("Audio features vs how you listen (all day)", 7), ("Skipping vs features by daypart (r)", 5)],
        [("Correlations with 95% intervals", 6), ("Skip rate by mood", 6)],
        [("Mood over time (weekly)", 12)],
        [("#markdown", STREAKS_NOTE, 12)],
        [("Low-valence streaks", 12, 35)],
    ]),
    "modes-predictions": ("Modes & predictions", [
        [("Listening modes", 5), ("Mode centroids", 7)],
        [("Modes across the week (dominant mode per daypart)", 7), ("Mode schedule", 5)],
        [("Highest preference scores", 7), ("Preference by genre", 5)],
    ]),
    "recommendations": ("Recommendations & explanations", [
        [("#markdown", REFLECTION, 12)],
        [("Mirror: more of where you are", 6), ("Coach: one small step brighter", 6)],
        [("Discovery: new artists in genres you enjoy", 7), ("Where your suggestions sit on the mood plane", 5)],
        [("What drives the scores (mean SHAP contribution)", 5), ("Explanations per track", 7)],
    ]),
    "you-vs-world": ("You vs the world", [
        [("Your mean valence", 3), ("Catalog mean valence", 3), ("Your mean energy", 3), ("Catalog mean energy", 3)],
        [("Genre share: you vs the catalog", 7), ("Your sound vs the catalog (standard deviations)", 5)],
        [("From genres the world plays more than you", 12, 40)],
    ]),
    "year-in-review": ("Year in review", [
        [("Your years", 12, 30)],
        [("Top artists per year (minutes)", 6, 40), ("Top tracks per year (plays)", 6, 40)],
        [("Minutes per month", 6), ("Moods per year", 6)],
    ]),
}


def dataset_columns(table: str, port: int | None) -> list[dict[str, Any]]:
    """Columns of ``delta.serving.<table>`` from a running Trino, or [] (the import refreshes them)."""
    if port is None:
        return []
    try:
        import trino

        conn = trino.dbapi.connect(host="127.0.0.1", port=port, user="moodlake", catalog="delta", schema=SCHEMA)
        cur = conn.cursor()
        cur.execute(f"describe {table}")
        rows = cur.fetchall()
        conn.close()
    except Exception:
        return []
    cols = []
    for name, type_, *_ in rows:
        temporal = type_.startswith(("timestamp", "date"))
        cols.append({"column_name": name, "type": type_.upper(), "is_dttm": temporal, "groupby": True,
                     "filterable": True})
    return cols


def build(port: int | None) -> dict[str, int]:
    """Write the bundle folder; returns counts for the log line."""
    previous = _previous_columns()
    if ASSETS.exists():
        shutil.rmtree(ASSETS)
    for sub in ("databases", f"datasets/{DB_NAME}", "charts", "dashboards"):
        (ASSETS / sub).mkdir(parents=True, exist_ok=True)
    dump = lambda path, doc: path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))  # noqa: E731
    dump(ASSETS / "metadata.yaml", {"version": "1.0.0", "type": "assets", "timestamp": "2026-11-25T00:00:00+00:00"})
    db_uuid = uid("database", DB_NAME)
    dump(ASSETS / "databases" / f"{DB_NAME}.yaml", {
        "database_name": DB_NAME,
        "sqlalchemy_uri": "trino://moodlake@127.0.0.1:8080/delta",  # port replaced at import from settings
        "expose_in_sqllab": True, "allow_ctas": False, "allow_cvas": False, "allow_dml": False,
        "allow_file_upload": False, "allow_run_async": False, "cache_timeout": None,
        "extra": {"allows_virtual_table_explore": True}, "uuid": db_uuid, "version": "1.0.0",
    })
    for table, spec in DATASETS.items():
        dump(ASSETS / "datasets" / DB_NAME / f"{table}.yaml", {
            "table_name": table, "schema": SCHEMA, "catalog": "delta", "main_dttm_col": spec.get("dttm"),
            "uuid": uid("dataset", table), "database_uuid": db_uuid, "version": "1.0.0",
            "cache_timeout": None, "sql": None, "params": None, "template_params": None, "filter_select_enabled": True,
            "columns": dataset_columns(table, port) or previous.get(table) or _spec_columns(spec),
            "metrics": [{"metric_name": name, "expression": expr, "verbose_name": label, "metric_type": None}
                        for name, (expr, label) in spec["metrics"].items()],
        })
    chart_ids: dict[str, int] = {}
    for i, (name, (table, params)) in enumerate(CHARTS.items(), start=1):
        chart_ids[name] = i
        dump(ASSETS / "charts" / f"{_slug(name)}.yaml", {
            "slice_name": TITLES.get(name, name), "description": DESCRIPTIONS.get(name), "certified_by": None,
            "certification_details": None,
            "viz_type": params["viz_type"], "params": {"adhoc_filters": [], **params}, "query_context": None,
            "cache_timeout": None, "uuid": uid("chart", name), "version": "1.0.0",
            "dataset_uuid": uid("dataset", table),
        })
    for slug, (title, rows) in DASHBOARDS.items():
        dump(ASSETS / "dashboards" / f"{slug}.yaml", {
            "dashboard_title": title, "description": None, "css": "", "slug": slug, "published": True,
            "certified_by": None, "certification_details": None, "uuid": uid("dashboard", slug),
            "version": "1.0.0", "position": _position(title, rows, chart_ids),
            "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                         "timed_refresh_immune_slices": [], "cross_filters_enabled": True,
                         "native_filter_configuration": [_listener_filter(slug, rows, chart_ids)],
                         "shared_label_colors": [], "color_scheme_domain": [],
                         "label_colors": {label: colour for _, label, colour in LADDER}},
        })
    return {"datasets": len(DATASETS), "charts": len(CHARTS), "dashboards": len(DASHBOARDS)}


NO_USER_DATASETS = {"tracks"}  # the catalog: the listener filter must not touch these charts


def _listener_filter(slug: str, rows: list[list[tuple]], chart_ids: dict[str, int]) -> dict[str, Any]:
    """A "Listener" select on user_id, so a multi-listener lake can show one person at a time (empty =
    everyone; share charts average over listeners). Charts on the catalog are out of its scope.
    Not preselected: Superset 6.1 showed the first value without applying it, which would mislead."""
    names = [item[0] for row in rows for item in row if item[0] != "#markdown"]
    excluded = [chart_ids[n] for n in names if CHARTS[n][0] in NO_USER_DATASETS]
    return {
        "id": f"NATIVE_FILTER-listener-{slug}"[:60], "name": "Listener", "filterType": "filter_select",
        "type": "NATIVE_FILTER", "description": "Whose listening the dashboard shows",
        "targets": [{"datasetUuid": uid("dataset", "plays"), "column": {"name": "user_id"}}],
        "controlValues": {"enableEmptyFilter": False, "defaultToFirstItem": False, "multiSelect": False,
                          "searchAllOptions": False, "inverseSelection": False},
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [], "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
        "chartsInScope": [chart_ids[n] for n in names if chart_ids[n] not in excluded], "tabsInScope": [],
    }


def _spec_columns(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Columns written in the spec (name -> Trino type), for datasets with no columns read yet."""
    return [{"column_name": name, "type": type_, "is_dttm": type_.startswith(("TIMESTAMP", "DATE")),
             "groupby": True, "filterable": True} for name, type_ in spec.get("columns", {}).items()]


def _previous_columns() -> dict[str, list[dict[str, Any]]]:
    """Columns already in the committed YAML: kept when no Trino is running to re-read them."""
    folder = ASSETS / "datasets" / DB_NAME
    if not folder.is_dir():
        return {}
    return {path.stem: yaml.safe_load(path.read_text()).get("columns") or [] for path in folder.glob("*.yaml")}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")[:60]


def _position(title: str, rows: list[list[tuple]], chart_ids: dict[str, int]) -> dict[str, Any]:
    pos: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}},
    }
    # every dashboard opens with the DEMO note, so demo listeners are never read as a person
    rows = [[("#markdown", DEMO_NOTE, 12, 8)], *rows]
    for r, row in enumerate(rows, start=1):
        row_id = f"ROW-{r}"
        widths = sum(item[2] if item[0] == "#markdown" else item[1] for item in row)
        if widths > 12:
            raise ValueError(f"{title}: row {r} is {widths} wide (max 12)")
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for c, item in enumerate(row, start=1):
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if item[0] == "#markdown":
                node_id = f"MARKDOWN-{r}-{c}"
                pos[node_id] = {"type": "MARKDOWN", "id": node_id, "children": [], "parents": parents,
                                "meta": {"code": item[1], "width": item[2], "height": item[3] if len(item) > 3 else 12}}
            else:
                name, width = item[0], item[1]
                node_id = f"CHART-{r}-{c}"
                big = CHARTS[name][1]["viz_type"] == "big_number_total"
                height = item[2] if len(item) > 2 else (25 if big else 60)
                pos[node_id] = {"type": "CHART", "id": node_id, "children": [], "parents": parents,
                                "meta": {"chartId": chart_ids[name], "uuid": uid("chart", name), "width": width,
                                         "height": height, "sliceName": TITLES.get(name, name)}}
            pos[row_id]["children"].append(node_id)
    return pos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trino-port", type=int, default=None, help="read dataset columns from this Trino")
    args = parser.parse_args()
    print(f"wrote {build(args.trino_port)} to {ASSETS}")


if __name__ == "__main__":
    main()
