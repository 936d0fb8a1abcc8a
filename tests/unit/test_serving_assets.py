"""Fast checks of the serving code and assets that need no server (run in every `pytest`)."""

from __future__ import annotations

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
