"""docker-compose.yml: valid structure, loopback-only ports, and the same configs as native serving.

No Docker engine runs here, so the file is checked statically, and validated by `docker compose
config` (v2 plugin) or Debian's `docker-compose config` (v1.29, no engine needed) when installed.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from moodlake.core.paths import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_dependencies(compose) -> None:
    services = compose["services"]
    assert {"pipeline", "trino", "publish", "postgres", "superset"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
    assert services["publish"]["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"
    assert services["superset"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_ports_bind_loopback_only(compose) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_shared_lake_volume_and_files_exist(compose) -> None:
    services = compose["services"]
    for name in ("pipeline", "trino", "publish"):
        assert "lake:/moodlake" in services[name]["volumes"], name
    assert "lake" in compose["volumes"]
    for service in services.values():
        build = service.get("build")
        if build:
            assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), volume


def test_trino_catalog_matches_native(tmp_path) -> None:
    """The compose catalog equals what write_config generates natively for MOODLAKE_HOME=/moodlake."""
    from moodlake.core.settings import load_settings
    from moodlake.serve import trino

    native_settings = load_settings(home=tmp_path, warehouse=None)
    native = (trino.write_config(native_settings).catalog / "delta.properties").read_text()
    native = native.replace(str(tmp_path.resolve()), "/moodlake")
    docker = (REPO_ROOT / "serving" / "docker" / "trino" / "delta.properties").read_text()
    strip = lambda text: sorted(line for line in text.splitlines() if line and not line.startswith("#"))  # noqa: E731
    assert strip(docker) == strip(native)


def _compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or Debian's `docker-compose` (v1.29); both validate offline."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_validates() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither the docker compose plugin nor docker-compose is installed "
                    "(apt-get install docker-compose); the static checks above still ran")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
