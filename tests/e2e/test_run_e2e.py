"""`moodlake run` end to end on the demo data, then `moodlake status --json`, as a user runs them."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import PLANTED_SECRETS, REPO, moodlake

CONTRACTS = REPO.parent / "shared" / "contracts"
LOCAL_CONTRACTS = REPO / "tests" / "fixtures" / "contracts"


def schema(name: str) -> dict:
    """The shared contract when present, else the copy the repo ships (kept identical by a test)."""
    path = CONTRACTS / name if (CONTRACTS / name).exists() else LOCAL_CONTRACTS / name
    return json.loads(path.read_text())


def status_json(env: dict) -> dict:
    return json.loads(moodlake(env, "status", "--json", timeout=900))


def test_summary_follows_the_contract(demo_run: dict) -> None:
    summary = demo_run["summary"]
    jsonschema.validate(summary, schema("summary.schema.json"))
    jsonschema.validate(summary, json.loads((LOCAL_CONTRACTS / "summary.schema.json").read_text()))  # our extension
    assert summary["demo"] is True
    assert {"ingest", "transform"} <= set(summary["stages"])
    assert all("error" not in stage for stage in summary["stages"].values())
    assert "DEMO" in demo_run["stdout"]
    sentences = [s for kind in summary.get("insights", {}).values() for s in kind]
    about_listeners = [s for s in sentences if "demo-" in s.split(":")[0]]
    assert about_listeners, "the run reports insights about the demo listeners"
    assert all(s.startswith("DEMO · ") for s in about_listeners), [s for s in about_listeners if not s.startswith("DEMO")]
    silver = summary.get("silver", {})
    assert {r["user_id"] for r in silver.get("plays", [])} == {"demo-ava", "demo-ben", "demo-noor"}
    assert "Silver plays" in demo_run["stdout"]


def test_terminal_is_quiet_and_the_log_file_has_the_rest(demo_run: dict) -> None:
    """Captured (not a TTY): no log4j WARN lines, no traceback, no escape codes; Spark's log lines went
    to $MOODLAKE_HOME/logs/moodlake-<date>.log, whose path the run prints at the end."""
    output = (demo_run["home"] / "run1.log").read_text()  # the run's stdout + stderr, as demo_run captured them
    assert not [line for line in output.splitlines() if re.search(r"\bWARN\b", line)]
    assert "Traceback" not in output
    assert "\x1b" not in output
    logs = sorted((demo_run["home"] / "logs").glob("moodlake-*.log"))
    assert logs, "the run writes a log file"
    assert any(f"log:     {path}" in output for path in logs), "the last lines name the log file"
    text = "\n".join(path.read_text() for path in logs)
    # log4j2's pattern from moodlake/core/log4j2.properties: Spark's JVM logged here, not nowhere
    spark_lines = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:WARN|ERROR|INFO) \w+: ", text, re.MULTILINE)
    assert spark_lines, "Spark's log lines are in the log file"
    assert re.search(r"WARN (?:HiveExternalCatalog|NativeCodeLoader|HiveConf|SessionState)", text)
    assert re.search(r"dbt build: \d+ nodes", output), "dbt reports one summary line instead of its own output"
    assert (demo_run["home"] / "dbt" / "logs" / "dbt.log").stat().st_size > 0, "dbt's own log still goes to its file"


def test_piped_status_table_keeps_one_row_per_line(demo_run: dict) -> None:
    out = moodlake(demo_run["env"], "status", timeout=900)
    assert "\x1b" not in out and "…" not in out
    rows = [[cell.strip() for cell in line.strip().strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    tables = [row for row in rows if len(row) == 5]  # table, layer, rows, version, location
    assert len(tables) >= 10, out
    for name, _layer, _rows, _version, location in tables:
        # the whole location (the longest cell) is on the row's one line, not folded onto the next
        assert str(demo_run["home"].resolve()) in location, (name, location)
        assert location.rstrip("/").endswith(name.split(".")[-1]), (name, location)


def test_status_lists_every_layer_with_rows(demo_run: dict) -> None:
    status = status_json(demo_run["env"])
    jsonschema.validate(status, schema("status.schema.json"))
    layers = {t["layer"] for t in status["tables"] if t["rows"] > 0}
    assert {"bronze", "silver", "gold"} <= layers
    for table in status["tables"]:
        assert Path(table["location"].removeprefix("file:")).is_dir()
    assert status.get("coverage"), "coverage per listener is reported once plays are modelled"
    for listener, cov in status["coverage"].items():
        assert listener.startswith("demo-")
        assert 0 < cov["matched_play_share"] <= 1


def test_second_run_adds_no_bronze_rows(demo_run: dict) -> None:
    before = {k: v for k, v in demo_run["summary"]["tables"].items() if k.startswith("bronze.")}
    moodlake(demo_run["env"], "run", timeout=3600)
    summary = json.loads((demo_run["home"] / "reports" / "latest" / "summary.json").read_text())
    after = {k: v for k, v in summary["tables"].items() if k.startswith("bronze.")}
    assert after == before
    ingest = summary["stages"]["ingest"]
    assert ingest["inserted"] == 0
    assert ingest["input_records"] == ingest["already_present"] + ingest["quarantined"] + ingest["skipped"]


def extends(shared: object, ours: object, where: str = "$") -> list[str]:
    """Where ``ours`` is not a compatible extension of ``shared``: every keyword kept with the same value,
    except that ``properties`` may gain new (optional) entries and nested schemas may extend in turn."""
    if not isinstance(shared, dict) or not isinstance(ours, dict):
        return [] if shared == ours else [f"{where}: {shared!r} became {ours!r}"]
    problems = []
    for key, value in shared.items():
        if key not in ours:
            problems.append(f"{where}.{key}: removed")
        elif key == "properties":
            for name, sub in value.items():
                problems += extends(sub, ours[key].get(name), f"{where}.properties.{name}")
        elif key in ("description", "title"):
            continue
        else:
            problems += extends(value, ours[key], f"{where}.{key}")
    return problems


@pytest.mark.parametrize("name", ["summary.schema.json", "status.schema.json"])
def test_shipped_contracts_extend_the_shared_ones_compatibly(name: str) -> None:
    """The repo's copy may describe more (new optional keys), never less or differently: output valid
    against ours stays valid against ../shared/contracts."""
    if not (CONTRACTS / name).exists():
        pytest.skip("../shared/contracts is absent; the shipped copy is used")
    shared, ours = (json.loads(p.read_text()) for p in (CONTRACTS / name, LOCAL_CONTRACTS / name))
    assert extends(shared, ours) == []
    broken = {**ours, "properties": {k: v for k, v in ours.get("properties", {}).items() if k != "stages"}}
    assert extends(shared, broken) or "stages" not in shared.get("properties", {}), "the check cannot fail"


def test_planted_secrets_appear_in_no_file_the_run_writes(demo_run: dict) -> None:
    """Logs, reports, summary.json, MLflow's store and artifacts, dbt's target and logs, the warehouse:
    none holds the Spotify client secret or tokens planted in the run's environment and token cache;
    the token cache itself stays private (0600 in a 0700 folder)."""
    home: Path = demo_run["home"]
    secrets = home / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in secrets.iterdir())
    planted = [v.encode() for k, v in PLANTED_SECRETS.items() if k != "client_id"]
    checked, leaks = 0, []
    for path in home.rglob("*"):
        if not path.is_file() or path.is_symlink() or secrets in path.parents:
            continue
        data = path.read_bytes()
        checked += 1
        leaks += [f"{path.relative_to(home)}: {v.decode()}" for v in planted if v in data]
    assert checked > 100, "the run wrote too few files for this check to mean anything"
    assert not leaks, leaks
    assert demo_run["stdout"] and not any(v.decode() in demo_run["stdout"] for v in planted)
