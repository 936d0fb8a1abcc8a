"""Register the warehouse's Delta tables in a running Trino and build the serving views.

Natively ``moodlake serve`` does this as part of bringing the stack up; in docker-compose it is the
``publish`` step (``python -m moodlake.app.serving publish``; Trino is another container there,
reached through ``MOODLAKE_TRINO_HOST``). Nothing here prints: :class:`PublishResult` says what
happened and the app layer shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from moodlake.core.dbt import DbtOutcome
from moodlake.core.settings import Settings
from moodlake.serve.procs import wait_for
from moodlake.serve.register import RegistrationResult, register_tables
from moodlake.serve.views import build_serving_views, built_views, failed_nodes, missing_sources


@dataclass
class PublishResult:
    """Registration plus dbt-trino: what was registered, which views built, which were skipped."""

    registration: RegistrationResult
    views: DbtOutcome
    #: Gold tables the views read that do not exist yet (their views were excluded, not failed)
    missing: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when every serving view that could be built was built."""
        return self.views.success

    @property
    def built(self) -> list[str]:
        return built_views(self.views)

    @property
    def failed(self) -> dict[str, str]:
        return failed_nodes(self.views)


def publish(settings: Settings) -> PublishResult:
    """Registration + dbt-trino (Trino must be up)."""
    registration = register_tables(settings)
    gold = [name.split(".", 1)[1] for name in registration.tables if name.startswith("gold.")]
    return PublishResult(registration, build_serving_views(settings, gold), missing_sources(gold))


def wait_until_reachable(settings: Settings, timeout: float = 180.0) -> bool:
    """Poll until Trino answers ``select 1`` (docker-compose starts it next to us); False on timeout."""
    from moodlake.serve.trino import connect

    def reachable() -> bool:
        try:
            conn = connect(settings)
            conn.cursor().execute("select 1").fetchall()
            conn.close()
            return True
        except Exception:  # not up yet: connection refused, starting, no catalog
            return False

    return wait_for(reachable, timeout, interval=2)
