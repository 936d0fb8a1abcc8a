"""Fast checks of the serving code and assets that need no server (run in every `pytest`)."""

from __future__ import annotations

import json
import re

import yaml

from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import load_settings
from moodlake.serve.views import SOURCE_NAME, dbt_args, serving_sources

ASSETS = REPO_ROOT / "serving" / "superset" / "assets"


def _load(folder: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((ASSETS / folder).rglob("*.yaml"))]


def test_views_over_missing_gold_tables_are_excluded(tmp_path) -> None:
    settings = load_settings(home=tmp_path)
    sources = serving_sources()
    assert {"fct_plays", "dim_tracks", "ml_recommendations"} <= set(sources)
    args = dbt_args(settings, ["dim_tracks", "fct_plays"])
    assert args[:5] == ["build", "--quiet", "--target", "trino", "--select"]
    excluded = args[args.index("--exclude") + 1:]
    assert f"source:{SOURCE_NAME}.ml_recommendations+" in excluded
    assert f"source:{SOURCE_NAME}.fct_plays+" not in excluded
    assert "--exclude" not in dbt_args(settings, sources)


def test_assets_are_consistent() -> None:
    """What the importer and the dashboard grid need: known uuids, chartId, rows no wider than 12."""
    meta = yaml.safe_load((ASSETS / "metadata.yaml").read_text())
    assert meta["type"] == "assets"
    databases = {d["uuid"] for d in _load("databases")}
    datasets = {d["uuid"]: d for d in _load("datasets")}
    charts = {c["uuid"]: c for c in _load("charts")}
    assert all(d["database_uuid"] in databases for d in datasets.values())
    assert all(c["dataset_uuid"] in datasets for c in charts.values())
    slugs = set()
    for dash in _load("dashboards"):
        slugs.add(dash["slug"])
        pos = dash["position"]
        for node in pos.values():
            if not isinstance(node, dict):
                continue
            if node.get("type") == "CHART":
                assert node["meta"]["uuid"] in charts and isinstance(node["meta"]["chartId"], int)
            if node.get("type") == "ROW":
                assert sum(pos[c]["meta"]["width"] for c in node["children"]) <= 12, dash["slug"]
    from moodlake.serve.stack import DASHBOARDS

    assert slugs == set(DASHBOARDS)


def test_serving_views_read_only_declared_sources() -> None:
    """Every view reads Gold through the trino-only source, never a Spark ref."""
    for sql in (REPO_ROOT / "models" / "serving").glob("*.sql"):
        text = sql.read_text()
        assert "target.name == 'trino'" in text, sql.name
        assert "ref(" not in text, sql.name


def test_coverage_views_follow_their_gold_tables(tmp_path) -> None:
    """The coverage views are declared like the others, so an older home without those marts skips them."""
    settings = load_settings(home=tmp_path)
    sources = serving_sources()
    assert {"mart_listening_coverage", "mart_unmatched_top"} <= set(sources)
    for view, mart in (("listening_coverage", "mart_listening_coverage"), ("unmatched_top", "mart_unmatched_top")):
        assert f"source('gold_delta', '{mart}')" in (REPO_ROOT / "models" / "serving" / f"{view}.sql").read_text()
    older = [name for name in sources if not name.startswith(("mart_listening_coverage", "mart_unmatched_top"))]
    args = dbt_args(settings, older)
    excluded = args[args.index("--exclude") + 1:]
    assert excluded == [f"source:{SOURCE_NAME}.mart_listening_coverage+", f"source:{SOURCE_NAME}.mart_unmatched_top+"]


def test_coverage_charts_on_the_overview() -> None:
    """The overview shows the ladder with human labels in ladder order and the unmatched tops."""
    charts = {c["slice_name"]: c for c in _load("charts")}
    overview = next(d for d in _load("dashboards") if d["slug"] == "listening-overview")
    names = {n["meta"]["sliceName"] for n in overview["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"}
    assert {"Minutes per year by match level", "Minutes matched to a track", "Top unmatched artists (minutes)",
            "Top unmatched tracks (minutes)"} <= names
    bar = charts["Minutes per year by match level"]["params"]
    labels = [m["label"] for m in bar["metrics"]]
    assert labels == ["1 track id", "2 artist + title", "3 artist estimate only", "4 unknown"]
    assert bar["stack"] and bar["sort_series_type"] == "name" and bar["sort_series_ascending"]
    assert labels == sorted(labels) and not any(code in " ".join(labels) for code in ("track_id", "track_name"))
    assert set(overview["metadata"]["label_colors"]) == set(labels)


def test_audio_feature_charts_state_their_base() -> None:
    """Charts on the listener's audio features say they cover only plays with features (title, subheader or
    description): plays matched only to an artist, or not at all, have none."""
    tables = {d["uuid"]: d["table_name"] for d in _load("datasets")}
    on_features = {"feature_correlations", "daily_mood", "feature_gap", "listening_modes", "mode_schedule",
                   "low_valence_streaks"}
    checked = 0
    for chart in _load("charts"):
        table, params = tables[chart["dataset_uuid"]], json.dumps(chart["params"])
        if table in on_features or (table in ("plays", "yearly_recap") and re.search(r"valence|energy|mood_quadrant", params)):
            said = " ".join(str(x) for x in (chart["slice_name"], chart["params"].get("subheader"), chart["description"]))
            assert re.search(r"(audio features|with features)", said), chart["slice_name"]
            checked += 1
    assert checked >= 12
