"""The serving stack as a whole: its dashboards, the URLs people open, and stopping it.

`moodlake serve` (``moodlake.app.serving``) brings the stack up in dependency order: Trino first
(registration, dbt-trino and the Superset import all talk to it), then table registration, then the
serving views, then Superset's one-time set-up, the asset import (overwrites every chart and dashboard
from the repo's YAML) and finally its web server. Each step is idempotent, so ``serve`` is also the
way to refresh after a pipeline run; a running server is left running.
"""

from __future__ import annotations

from dataclasses import dataclass

from moodlake.core.settings import Settings
from moodlake.serve import superset, trino

DASHBOARDS = {
    "listening-overview": "Listening overview",
    "why": "Why: what goes with your listening",
    "modes-predictions": "Modes & predictions",
    "recommendations": "Recommendations & explanations",
    "you-vs-world": "You vs the world",
    "year-in-review": "Year in review",
}


def service_urls(settings: Settings) -> dict[str, str]:
    """Trino UI and JDBC, Superset, and every dashboard, by the name shown next to them."""
    base = superset.base_url(settings)
    urls = {
        "Trino UI": f"{trino.base_url(settings)}/ui/",
        "Trino JDBC": f"jdbc:trino://127.0.0.1:{settings.trino_port}/delta",
        "Superset": f"{base}/",
    }
    urls.update({title: f"{base}/superset/dashboard/{slug}/" for slug, title in DASHBOARDS.items()})
    return urls


@dataclass(frozen=True)
class StopResult:
    """Which of this home's servers were running (and are now stopped)."""

    superset: bool
    trino: bool


def stop(settings: Settings) -> StopResult:
    """Stop Superset and Trino of this Moodlake home (by pid file; other processes are untouched)."""
    stopped_superset = superset.stop_superset(settings)
    return StopResult(superset=stopped_superset, trino=trino.stop_trino(settings))
