"""Moodlake's own exceptions: conditions we expect and can explain to a person.

Lower layers raise these instead of printing or exiting; the app layer (``moodlake.app``) prints the
message without a traceback and exits with ``exit_code``. Anything else is a bug and keeps its traceback
in the run's log file.
"""

from __future__ import annotations

from typing import Any


class MoodlakeError(Exception):
    """Base class: ``str(exc)`` is the sentence shown to the user."""

    exit_code = 1


class IngestFailed(MoodlakeError):
    """Some files could not be loaded; the others were.

    ``outcome`` is what was done (landed files, failures, ignored files), so the caller can still
    show it; ``str()`` lists every failed file and its reason.
    """

    def __init__(self, failures: list[tuple[str, str]], outcome: Any = None) -> None:
        self.failures = failures
        self.outcome = outcome
        listed = "; ".join(f"{name}: {reason}" for name, reason in failures)
        super().__init__(f"{len(failures)} file(s) failed to load: {listed}")


class ApiAuthError(MoodlakeError):
    """OAuth cannot continue without the user (no credentials, or the refresh token is dead)."""


class StageFailed(MoodlakeError):
    """A pipeline step (dbt build, training) ended without success; the message says which and why."""
