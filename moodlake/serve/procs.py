"""Small process helpers shared by the Trino and Superset managers.

We track servers by pid files under ``$MOODLAKE_HOME`` and stop them by pid (never by name), so a
second Moodlake home or an unrelated Trino on the machine is never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from moodlake.core.errors import MoodlakeError

#: How serve functions report a step that takes a while ("Fetching Trino …"); the app layer prints it.
Progress = Callable[[str], None]


class ServeError(MoodlakeError):
    """A server could not be set up or started; the message says why and where the log is."""


def report(progress: Progress | None, message: str) -> None:
    """Send one plain-text progress line to the caller's callback, if it gave one."""
    if progress is not None:
        progress(message)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port (so our server would fail to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """An unused loopback port (tests run servers side by side with a developer's stack)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` when that process is still alive, else None (stale files are removed)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if pid_alive(pid):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    return Path(f"/proc/{pid}").exists() and "zombie" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.lower()
    except OSError:
        return ""
    return ""


def terminate(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM, wait, then SIGKILL: servers get a chance to shut down cleanly. True if it stopped."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_for(lambda: not pid_alive(pid), timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    return wait_for(lambda: not pid_alive(pid), 10)


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int = 30) -> str:
    """Last lines of a log file for error messages (empty when the file does not exist)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
