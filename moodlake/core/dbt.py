"""Run dbt in-process, inside the Spark session this process already created.

dbt-spark's ``method: session`` calls ``SparkSession.builder...getOrCreate()``, which returns our
session (Delta, Hive metastore, jars) instead of starting a second JVM; so callers must call
``moodlake.core.spark.get_spark`` first. dbt's target and log folders live under ``$MOODLAKE_HOME``.

dbt prints nothing itself (``--log-level none``): its full debug log still goes to
``$MOODLAKE_HOME/dbt/logs/dbt.log``, progress is reported node by node to the caller's ``progress``
callable (:class:`DbtProgress`), and what failed comes back in :attr:`DbtOutcome.failures` with dbt's
own error messages, for the app to show.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moodlake.core.paths import REPO_ROOT
from moodlake.core.settings import Settings

#: Node results that mean the node did not do its job (``warn`` is reported but is not a failure).
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class DbtFailure:
    """A node that failed (or only warned): dbt's id, its status and dbt's message."""

    unique_id: str
    status: str
    message: str


@dataclass
class DbtOutcome:
    """Result of one dbt invocation: success, per-node statuses and what failed with dbt's message."""

    success: bool
    statuses: dict[str, str]
    error: str | None = None
    failures: list[DbtFailure] = field(default_factory=list)
    warnings: list[DbtFailure] = field(default_factory=list)
    #: why ``--full-refresh`` was added (a restored table, see moodlake.core.timetravel), else None
    forced_full_refresh: str | None = None

    def counts(self) -> dict[str, int]:
        """How many nodes ended in each status, e.g. ``{"success": 23, "pass": 359, "skipped": 0}``."""
        out: dict[str, int] = {}
        for status in self.statuses.values():
            out[status] = out.get(status, 0) + 1
        return out


@dataclass(frozen=True)
class DbtProgress:
    """One step of a dbt invocation, for a progress line.

    ``status`` is ``"started"`` when a node begins, then its result (``success``, ``pass``, ``fail``,
    ``error``, ``skipped``, ``warn``) when it ends; ``done`` counts finished nodes of ``total``
    (0 until dbt has announced the count).
    """

    done: int
    total: int
    resource_type: str
    name: str
    status: str


def dbt_env(settings: Settings) -> None:
    os.environ["DBT_TARGET_PATH"] = str(settings.dbt_target_dir)
    os.environ["DBT_LOG_PATH"] = str(settings.home / "dbt" / "logs")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ["MOODLAKE_TRINO_PORT"] = str(settings.trino_port)


def _progress_callback(progress: Callable[[DbtProgress], None]) -> Callable[[Any], None]:
    """Turn dbt's event messages into :class:`DbtProgress` calls (start and end of each node)."""
    state = {"done": 0, "total": 0}

    def on_event(msg: Any) -> None:
        name = msg.info.name
        if name not in ("LogStartLine", "NodeFinished"):
            return
        data = msg.data
        info = data.node_info
        if name == "LogStartLine":
            state["total"] = max(state["total"], int(data.total))
            status = "started"
        else:
            state["done"] += 1
            status = str(info.node_status or "")
        try:
            progress(DbtProgress(done=state["done"], total=state["total"], resource_type=str(info.resource_type),
                                 name=str(info.node_name), status=status))
        except Exception:  # a display problem must never fail the dbt run
            import logging

            logging.getLogger(__name__).exception("dbt progress callback failed")

    return on_event


def invoke_dbt(settings: Settings, args: list[str], progress: Callable[[DbtProgress], None] | None = None) -> DbtOutcome:
    """Invoke dbt with project and profiles from the repo; returns statuses instead of raising.

    dbt's console output is off; ``progress`` (if given) is called as each node starts and finishes.
    After a ``moodlake restore`` the next build or run becomes a full refresh (once it succeeds, the
    request is cleared; a narrower ``--select`` is refreshed but keeps the request), so incremental
    models cannot keep rows of the load that was undone.
    """
    from dbt.cli.main import dbtRunner

    from moodlake.core.timetravel import clear_rebuild, rebuild_reasons

    dbt_env(settings)
    forced = None
    pending = rebuild_reasons(settings) if args and args[0] in ("build", "run") else []
    if pending and "--full-refresh" not in args:
        forced = "restored: " + ", ".join(f"{r.get('table')} to version {r.get('restored_to')}" for r in pending)
        args = [*args, "--full-refresh"]
    full = [
        *args,
        "--project-dir", str(REPO_ROOT),
        "--profiles-dir", str(REPO_ROOT / "profiles"),
        "--vars", f"{{session_gap_minutes: {settings.session_gap_minutes}}}",
    ]
    if not any(a.startswith(("--log-level", "--debug", "-d")) for a in args):  # unless asked for dbt's own output
        # nothing on the terminal; the file log (DBT_LOG_PATH) keeps every debug line, without colour codes
        full += ["--log-level", "none", "--log-level-file", "debug", "--no-use-colors"]
    callbacks = [_progress_callback(progress)] if progress else []
    result = dbtRunner(callbacks=callbacks).invoke(full)
    statuses: dict[str, str] = {}
    failures: list[DbtFailure] = []
    warnings: list[DbtFailure] = []
    res = result.result
    for node in getattr(res, "results", None) or []:
        status = str(node.status)
        statuses[node.node.unique_id] = status
        if status in FAILED_STATUSES or status == "warn":
            message = str(node.message or "").strip() or status
            (warnings if status == "warn" else failures).append(DbtFailure(node.node.unique_id, status, message))
    error = str(result.exception) if result.exception else None
    if pending and result.success and not any(a in ("--select", "-s", "--models", "-m", "--exclude") for a in args):
        clear_rebuild(settings)  # only a whole-project rebuild answers the request
    return DbtOutcome(success=bool(result.success), statuses=statuses, error=error, failures=failures, warnings=warnings,
                      forced_full_refresh=forced)
