"""One settings object for the whole product.

Values come, highest precedence first, from environment variables (``MOODLAKE_*``), then from an
optional TOML file (``$MOODLAKE_CONFIG`` or ``moodlake.toml`` in the repo root), then from the
defaults below. Every other module receives a ``Settings`` instance instead of reading the
environment itself, so a cluster / object-storage deployment is a matter of configuration only.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from moodlake.core.paths import REPO_ROOT


def _config_file() -> Path:
    return Path(os.environ.get("MOODLAKE_CONFIG", REPO_ROOT / "moodlake.toml"))


class Settings(BaseSettings):
    """Validated configuration; see README "Settings" for each field."""

    model_config = SettingsConfigDict(env_prefix="MOODLAKE_", extra="ignore")

    home: Path = Field(default=REPO_ROOT / ".moodlake", description="state: warehouse, metastore, MLflow, reports, tokens")
    spark_master: str = Field(default="local[*]", description="Spark master URL")
    warehouse: str | None = Field(default=None, description="warehouse path or URI (s3a://...); default $home/warehouse")
    timezone: str = Field(default="Europe/Berlin", description="listener's IANA time zone for local-time columns")
    log_level: str = Field(default="WARN", description="Spark and dbt log level")
    cache_dir: Path = Field(default=Path.home() / ".cache" / "moodlake", description="downloaded jars and servers")
    driver_memory: str = Field(default="4g", description="spark.driver.memory")
    shuffle_partitions: int = Field(default=4, ge=1, description="spark.sql.shuffle.partitions")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="extra Spark conf, e.g. s3a credentials provider")
    lock_wait_seconds: float = Field(
        default=300, ge=0, description="how long a command waits for another Moodlake process on the same home")
    session_gap_minutes: int = Field(default=20, ge=1, description="gap that starts a new listening session")
    trino_port: int = Field(default=8080, description="Trino HTTP port on 127.0.0.1")
    superset_port: int = Field(default=8088, description="Superset port on 127.0.0.1")
    spotify_client_id: str | None = Field(default=None, description="Spotify app client id (API polling only)")
    spotify_client_secret: str | None = Field(default=None, repr=False, description="Spotify app secret")
    spotify_redirect_uri: str = Field(default="http://127.0.0.1:8888/callback")
    # recommender caps (ml/policy.py PolicyConfig); unset = the policy's defaults
    recommend_coach_step_min: float | None = Field(default=None, ge=0, le=0.5, description="coach: min valence step (0.05)")
    recommend_coach_step_max: float | None = Field(default=None, ge=0, le=0.5, description="coach: max valence step (0.15)")
    recommend_coach_track_cap: float | None = Field(default=None, ge=0, le=1, description="coach: max per-track jump (0.25)")
    recommend_mirror_tolerance: float | None = Field(default=None, ge=0, le=0.5, description="mirror: valence band (0.05)")
    recommend_energy_step_max: float | None = Field(default=None, ge=0, le=0.5, description="max energy move (0.10)")

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"MOODLAKE_TIMEZONE={value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARN", "ERROR"}:
            raise ValueError("MOODLAKE_LOG_LEVEL must be DEBUG, INFO, WARN or ERROR")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # ---- derived locations -------------------------------------------------------------
    @cached_property
    def warehouse_uri(self) -> str:
        """Where Delta tables live: a local absolute path or an object-store URI."""
        if self.warehouse:
            if "://" in self.warehouse:
                return self.warehouse.rstrip("/")
            return str(Path(self.warehouse).resolve())
        return str((self.home / "warehouse").resolve())

    @property
    def uses_s3a(self) -> bool:
        """True when the warehouse is on an S3-compatible store (needs the hadoop-aws jars)."""
        return self.warehouse_uri.startswith("s3a://")

    @property
    def metastore_dir(self) -> Path:
        return self.home / "metastore"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{(self.home / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.home / "mlflow" / "artifacts"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt" / "target"

    def ensure_dirs(self) -> None:
        """Create local state folders; secrets stay private to the user (mode 0700)."""
        for path in (self.home, self.metastore_dir, self.reports_dir, self.mlflow_artifacts, self.dbt_target_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.chmod(0o700)
        if "://" not in self.warehouse_uri:
            Path(self.warehouse_uri).mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Build settings once at the edge (CLI, tests) and pass them down."""
    return Settings(**overrides)
