"""Where the project's own files are: the repo root and what lives in it.

State (warehouse, metastore, MLflow, reports) is not here: it is under ``Settings.home``.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder with dbt_project.yml); the package is installed in editable mode.
REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO_ROOT / "dbt_project.yml"
PROFILES_DIR = REPO_ROOT / "profiles"
SEEDS_DIR = REPO_ROOT / "seeds"
#: The bundled TidyTuesday catalog (MIT; see NOTICE); the Kaggle 114k is bundled too (ingestion.catalog.BUNDLED_CATALOGS).
BUNDLED_CATALOG = REPO_ROOT / "data" / "catalog" / "spotify_songs.csv.gz"
SERVING_ASSETS = REPO_ROOT / "serving" / "superset"
