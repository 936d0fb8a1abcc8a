"""One Moodlake process per home at a time, said plainly instead of a Derby stack trace.

Why: the Hive metastore is an embedded Derby database, which one JVM may open at a time. A second
``moodlake`` command on the same home (a cron'd API poll while an export imports, two ``moodlake run``)
used to die deep inside Spark with "Another instance of Derby may have already booted the database".
Instead, :func:`acquire` takes an exclusive ``flock`` on ``$MOODLAKE_HOME/moodlake.lock`` before the
JVM starts; a second process waits (``lock_wait_seconds``) and, if the first is still running, stops
with :class:`HomeBusy` naming it (pid, command, start time). The kernel releases the lock when the
holder exits, however it exits (SIGKILL included), so a crash never leaves the home locked.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from moodlake.core.errors import MoodlakeError

LOCK_FILE = "moodlake.lock"
POLL_SECONDS = 0.5
_held: dict[Path, IO[str]] = {}
_notices: list[Callable[[str], None]] = []
log = logging.getLogger(__name__)


def on_wait(notice: Callable[[str], None]) -> None:
    """Register who tells the person that a command is waiting (the app's console); core never prints."""
    _notices.append(notice)


class HomeBusy(MoodlakeError):
    """Another process holds the home; the message names it and how to proceed."""

    exit_code = 75  # EX_TEMPFAIL: try again later


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return "another process"
    return f"pid {info.get('pid', '?')}: `{info.get('command', '?')}`, since {info.get('started', '?')}"


def acquire(home: Path, wait_seconds: float) -> None:
    """Hold the home's lock for the rest of this process (idempotent within a process)."""
    path = (home / LOCK_FILE).resolve()
    if path in _held:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not announced:
                message = f"Waiting up to {wait_seconds:.0f} s for another Moodlake process ({_holder(path)}) to finish"
                log.warning("%s with %s", message, home)
                for notice in _notices:
                    notice(message)
                announced = True
            if time.monotonic() >= deadline:
                holder = _holder(path)
                handle.close()
                raise HomeBusy(
                    f"Another Moodlake process is using {home} ({holder}). Wait for it to finish, or stop it; "
                    f"waited {wait_seconds:.0f} s (MOODLAKE_LOCK_WAIT_SECONDS sets how long)."
                ) from None
            time.sleep(POLL_SECONDS)
    handle.seek(0)
    handle.truncate()
    command = " ".join(["moodlake" if i == 0 and a.endswith("moodlake") else a for i, a in enumerate(sys.argv)])
    handle.write(json.dumps({"pid": os.getpid(), "command": command[:200],
                             "started": datetime.now(UTC).isoformat(timespec="seconds")}))
    handle.flush()
    _held[path] = handle


def holder_of(home: Path) -> str | None:
    """Who holds the home's lock now (None when free): for `moodlake status` and tests."""
    path = (home / LOCK_FILE).resolve()
    if path in _held:
        return _holder(path)
    if not path.exists():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


__all__ = ["LOCK_FILE", "HomeBusy", "acquire", "holder_of", "on_wait"]
