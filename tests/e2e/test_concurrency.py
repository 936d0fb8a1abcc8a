"""Two `moodlake` commands on one home at once (issue 14): the second waits for the first, both
succeed and no row is lost; with no time to wait, it stops with a message naming the first process,
never a stack trace. (The embedded Hive metastore admits one JVM; moodlake.core.homelock.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingestion.history import expand_paths, parse_source
from tests.conftest import FIXTURES, REPO, moodlake

EXTENDED = FIXTURES / "history" / "extended"
ACCOUNT = FIXTURES / "history" / "account"


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "moodlake", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_commands_wait_for_each_other_and_lose_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "MOODLAKE_HOME": str(tmp_path / "home"), "MOODLAKE_DRIVER_MEMORY": "1g"}
    env.pop("MOODLAKE_WAREHOUSE", None)
    first = _start(env, "ingest", "history", str(EXTENDED), "--user", "conc-a")
    second = _start(env, "ingest", "history", str(ACCOUNT), "--user", "conc-b")
    outputs = [p.communicate(timeout=900) for p in (first, second)]
    for proc, (out, err) in zip((first, second), outputs, strict=True):
        assert proc.returncode == 0, f"{proc.args}:\n{out[-2000:]}\n{err[-2000:]}"
        assert "Traceback" not in out + err
    assert any("Waiting up to 300 s for another Moodlake process (pid" in err for _, err in outputs), \
        "neither command waited: the two did not overlap, so the test proves nothing"

    # nothing lost, nothing doubled: each table holds exactly the records the parser accepts from the files
    expected: dict[str, int] = {}
    for folder, user in ((EXTENDED, "conc-a"), (ACCOUNT, "conc-b")):
        for source in expand_paths([folder]):
            parsed, _ = parse_source(source, user)
            if parsed is not None:
                expected[parsed.table] = expected.get(parsed.table, 0) + len(parsed.rows)
    tables = {t["name"]: t["rows"] for t in json.loads(moodlake(env, "status", "--json"))["tables"]}
    assert {name: tables.get(name) for name in expected} == expected


def test_without_time_to_wait_the_second_stops_naming_the_first(tmp_path: Path) -> None:
    env = {**os.environ, "MOODLAKE_HOME": str(tmp_path / "home"), "MOODLAKE_DRIVER_MEMORY": "1g"}
    env.pop("MOODLAKE_WAREHOUSE", None)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from pathlib import Path; from moodlake.core import homelock;"
         "homelock.acquire(Path(sys.argv[1]), 0); print('held', flush=True); time.sleep(120)", env["MOODLAKE_HOME"]],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        proc = subprocess.run([sys.executable, "-m", "moodlake", "status"], cwd=REPO, capture_output=True, text=True,
                              env={**env, "MOODLAKE_LOCK_WAIT_SECONDS": "0"}, timeout=300, check=False)
        assert proc.returncode == 75, proc.stdout + proc.stderr
        assert f"Another Moodlake process is using {env['MOODLAKE_HOME']} (pid {holder.pid}" in proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
    finally:
        holder.kill()
        holder.wait()
