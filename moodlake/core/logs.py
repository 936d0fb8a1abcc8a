"""Where diagnostics go: one log file per day, ``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log``.

The terminal shows results (tables, progress, one line per failure); everything else is written to
this file, appended to by every command of that day:

* Spark's JVM: log4j2 is configured by ``log4j2.properties`` next to this module (a file appender,
  no console appender), and whatever the JVM itself prints to stdout/stderr (e.g. "Using incubator
  modules") is redirected to the same file when :func:`moodlake.core.spark.get_spark` starts it;
* Python loggers (py4j, mlflow, alembic, urllib3, ...) and :mod:`warnings`, once the app has called
  :func:`configure_logging`;
* tracebacks of failures the app handles (``logging.exception``), and text libraries print to
  ``sys.stderr`` inside :func:`stderr_to_log` (e.g. MLflow's "Registered model ... Created version").

dbt keeps its own debug log in ``$MOODLAKE_HOME/dbt/logs/dbt.log`` (see :mod:`moodlake.core.dbt`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from moodlake.core.settings import Settings

#: log4j2 configuration for Spark's driver JVM; it reads the system properties set by :func:`java_log_options`.
LOG4J2_PROPERTIES = Path(__file__).with_name("log4j2.properties")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# chatty libraries: their INFO lines are not worth a line each, even in the log file
_QUIET_LOGGERS = {"py4j": logging.WARNING, "urllib3": logging.WARNING, "matplotlib": logging.WARNING,
                  "PIL": logging.WARNING, "numba": logging.WARNING, "sqlalchemy.engine": logging.WARNING,
                  "git": logging.WARNING, "asyncio": logging.WARNING}

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "ERROR": logging.ERROR}


def log_dir(settings: Settings) -> Path:
    return (settings.home / "logs").resolve()


def log_path(settings: Settings) -> Path:
    """Today's log file: ``$MOODLAKE_HOME/logs/moodlake-YYYY-MM-DD.log`` (absolute)."""
    return log_dir(settings) / f"moodlake-{date.today().isoformat()}.log"


def java_log_options(settings: Settings) -> str:
    """JVM options that send log4j2 output to :func:`log_path` (for ``spark.driver.extraJavaOptions``)."""
    level = settings.log_level.lower()
    return (f"-Dlog4j2.configurationFile={LOG4J2_PROPERTIES.resolve().as_uri()} "
            f"-Dmoodlake.log.file={log_path(settings)} -Dmoodlake.log.level={level}")


class _FileHandler(logging.FileHandler):
    """Ours, so a second :func:`configure_logging` replaces it instead of adding another.

    Opened (folder and file created) on the first record, so `moodlake --help` leaves nothing behind.
    """

    def _open(self):  # type: ignore[no-untyped-def]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def configure_logging(settings: Settings) -> Path:
    """Send Python logging and warnings to :func:`log_path`, not the terminal; returns the file.

    Called once by the app at start. Idempotent (a later call with another home moves the log).
    """
    path = log_path(settings)
    # MLflow otherwise attaches its own stderr handler to its loggers when first imported
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _FileHandler)]:
        root.removeHandler(handler)
        handler.close()
    handler = _FileHandler(path, mode="a", encoding="utf-8", delay=True)  # created by the first record
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    # INFO from our own code and libraries (MLflow, dbt-spark, alembic) is what the file is for
    root.setLevel(min(_LEVELS[settings.log_level], logging.INFO))
    for name, level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, _LEVELS[settings.log_level]))
    for name in ("mlflow", "alembic", "huey"):  # configured by MLflow before us: point them at the file too
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, logging.StreamHandler)
                           or isinstance(h, logging.FileHandler)]
        logger.propagate = True
    logging.captureWarnings(True)
    return path


class _LogWriter(io.TextIOBase):
    """A text stream that turns each written line into a log record."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self._logger = logger
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            line = line.rsplit("\r", 1)[-1].rstrip()  # a progress bar redrawn with "\r": its last state only
            if line:
                self._logger.log(self._level, line)
        self._pending = self._pending.rsplit("\r", 1)[-1]
        return len(text)

    def close_line(self) -> None:
        """Log what is left without a newline at the end."""
        if self._pending.strip():
            self._logger.log(self._level, self._pending.rstrip())
        self._pending = ""


@contextlib.contextmanager
def stderr_to_log(name: str = "stderr") -> Iterator[None]:
    """While inside, text written to ``sys.stderr`` goes to the log file (logger ``name``) instead.

    For libraries that print diagnostics themselves (MLflow's ``eprint``, progress bars); the app's
    own console writes to stdout and is not affected.
    """
    writer = _LogWriter(logging.getLogger(name), logging.INFO)
    with contextlib.redirect_stderr(writer):  # type: ignore[type-var]
        try:
            yield
        finally:
            writer.close_line()


def log_exception(message: str, *args: object) -> None:
    """The current exception's traceback into the log file (never the terminal)."""
    logging.getLogger("moodlake").exception(message, *args)


def stream_for_jvm(settings: Settings) -> io.FileIO:
    """The log file opened for appending, for the JVM's stdout and stderr (the caller closes it)."""
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return io.FileIO(path, "ab")
