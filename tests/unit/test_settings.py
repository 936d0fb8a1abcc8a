"""Settings: env vars beat the TOML file, which beats defaults; bad values fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from moodlake.core.settings import Settings


def test_defaults_are_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOODLAKE_CONFIG", str(tmp_path / "absent.toml"))
    for var in ("MOODLAKE_HOME", "MOODLAKE_WAREHOUSE", "MOODLAKE_SPARK_MASTER", "MOODLAKE_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.spark_master == "local[*]"
    assert s.home.name == ".moodlake"
    assert s.warehouse_uri == str((s.home / "warehouse").resolve())
    assert s.mlflow_uri.startswith("sqlite:///") and s.mlflow_uri.endswith("mlflow.db")


def test_file_then_env_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "moodlake.toml"
    config.write_text('timezone = "America/New_York"\nspark_master = "spark://10.0.0.5:7077"\n'
                      'warehouse = "s3a://lake/warehouse/"\n[spark_conf]\n"spark.hadoop.fs.s3a.path.style.access" = "true"\n')
    monkeypatch.setenv("MOODLAKE_CONFIG", str(config))
    monkeypatch.setenv("MOODLAKE_TIMEZONE", "Asia/Tokyo")
    monkeypatch.delenv("MOODLAKE_SPARK_MASTER", raising=False)
    monkeypatch.delenv("MOODLAKE_WAREHOUSE", raising=False)
    s = Settings()
    assert s.timezone == "Asia/Tokyo"  # env wins over the file
    assert s.spark_master == "spark://10.0.0.5:7077"  # file wins over the default
    assert s.warehouse_uri == "s3a://lake/warehouse"  # object storage by configuration only
    assert s.spark_conf["spark.hadoop.fs.s3a.path.style.access"] == "true"


def test_s3a_warehouse_reaches_spark_conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from moodlake.core.jars import SetupError, s3a_jar_dir
    from moodlake.core.spark import spark_conf

    monkeypatch.setenv("MOODLAKE_CONFIG", str(tmp_path / "absent.toml"))
    s = Settings(warehouse="s3a://bucket/lake", spark_master="spark://cluster:7077", cache_dir=tmp_path,
                 spark_conf={"spark.jars": "/opt/jars/hadoop-aws.jar", "spark.hadoop.fs.s3a.path.style.access": "true"})
    (tmp_path / "jars" / "delta-4.4.0-spark4.2").mkdir(parents=True)
    (tmp_path / "jars" / "delta-4.4.0-spark4.2" / "delta.jar").write_text("")
    (tmp_path / "jars" / "delta-4.4.0-spark4.2" / ".complete").write_text("")
    with pytest.raises(SetupError, match="s3a"):
        spark_conf(s)  # an s3a:// warehouse needs hadoop-aws, fetched by `moodlake setup`
    s3a = s3a_jar_dir(tmp_path)
    s3a.mkdir(parents=True)
    (s3a / "hadoop-aws.jar").write_text("")
    (s3a / ".complete").write_text("")
    conf = spark_conf(s)
    assert conf["spark.sql.warehouse.dir"] == "s3a://bucket/lake"
    assert conf["spark.master"] == "spark://cluster:7077"
    assert "spark.driver.bindAddress" not in conf  # only pinned to loopback on a local master
    jars = conf["spark.jars"].split(",")
    assert jars[-1] == "/opt/jars/hadoop-aws.jar" and any(j.endswith("delta.jar") for j in jars)
    assert str(s3a / "hadoop-aws.jar") in jars
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("timezone", "Mars/Olympus", "not an IANA time zone"), ("log_level", "LOUD", "MOODLAKE_LOG_LEVEL")],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, field: str, value: str, message: str) -> None:
    monkeypatch.setenv("MOODLAKE_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})


def test_recommender_caps_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ml.policy import PolicyConfig

    monkeypatch.setenv("MOODLAKE_CONFIG", str(tmp_path / "absent.toml"))
    assert PolicyConfig.from_settings(Settings()) == PolicyConfig()
    monkeypatch.setenv("MOODLAKE_RECOMMEND_COACH_STEP_MAX", "0.12")
    monkeypatch.setenv("MOODLAKE_RECOMMEND_MIRROR_TOLERANCE", "0.03")
    config = PolicyConfig.from_settings(Settings())
    assert config.coach_step_max == 0.12 and config.mirror_tolerance == 0.03
    assert config.coach_step_min == PolicyConfig().coach_step_min
    monkeypatch.setenv("MOODLAKE_RECOMMEND_COACH_STEP_MAX", "0.9")
    with pytest.raises(ValueError, match="recommend_coach_step_max"):
        Settings()
