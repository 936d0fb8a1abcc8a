"""One Moodlake process per home (moodlake.core.homelock), with real processes and the kernel's flock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from moodlake.core import homelock

HOLD = """
import sys, time
from pathlib import Path
from moodlake.core import homelock
homelock.acquire(Path(sys.argv[1]), wait_seconds=0)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(home: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_stops_with_a_message_naming_the_first(tmp_path: Path) -> None:
    proc = _holder(tmp_path, 60)
    try:
        assert f"pid {proc.pid}" in (homelock.holder_of(tmp_path) or "")
        notices: list[str] = []
        homelock.on_wait(notices.append)
        with pytest.raises(homelock.HomeBusy, match=rf"Another Moodlake process is using .* \(pid {proc.pid}: .*waited 1 s"):
            homelock.acquire(tmp_path, wait_seconds=1)
        assert notices and f"pid {proc.pid}" in notices[-1]
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_never_leaves_the_home_locked(tmp_path: Path) -> None:
    proc = _holder(tmp_path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert homelock.holder_of(tmp_path) is None
    homelock.acquire(tmp_path, wait_seconds=0)
    assert f"pid {os.getpid()}" in (homelock.holder_of(tmp_path) or "")


def test_the_second_process_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    proc = _holder(tmp_path, 1.5)
    homelock.acquire(tmp_path, wait_seconds=30)
    assert proc.wait(timeout=30) == 0
