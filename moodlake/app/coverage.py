"""`moodlake coverage`: what share of each listener's plays and minutes each rung of the matching ladder
explains, and what the catalogs miss most (by minutes)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

LEVEL_LABELS = {
    "track_id": "track id (exact)",
    "track_name": "artist + title",
    "artist": "artist estimate only",
    "unknown": "unknown",
}


def print_coverage(console: Console, listeners: list[dict[str, Any]], top: int = 10) -> None:
    """One table per listener (levels with plays, minutes and shares), then the top unmatched artists."""
    if not listeners:
        console.print("No coverage yet: ingest a history and run `moodlake transform`.")
        return
    for item in listeners:
        plays, minutes = item["plays"], item["minutes"]
        table = Table(title=f"{item['user_id']}: {plays:,} music plays, {minutes:,.0f} minutes")
        for col in ("matched by", "plays", "share of plays", "minutes", "share of minutes"):
            table.add_column(col, justify="left" if col == "matched by" else "right")
        for level, label in LEVEL_LABELS.items():
            n, m = item["by_level"][level], item["minutes_by_level"][level]
            table.add_row(label, f"{n:,}", f"{n / plays:.1%}" if plays else "-", f"{m:,.0f}",
                          f"{m / minutes:.1%}" if minutes else "-")
        console.print(table)
        missing = item["top_unmatched_artists"][:top]
        if missing:
            names = ", ".join(f"{a['artist_name']} ({a['minutes']:,.0f} min)" for a in missing)
            console.print(f"  most-played artists without track-level features: {names}")
        console.print(
            "  Audio-feature analyses use the two track levels; artist estimates are used only where labelled."
        )
