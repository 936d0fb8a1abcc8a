"""The report a person reads: one self-contained HTML page per run.

Everything is inline (charts are base64 PNGs drawn with matplotlib, styles in a <style> block), so
the page opens offline, can be mailed, and never calls an external URL. It shows the insight
sentences of every analytics type and, per listener, the hour x weekday heatmap, mood over time,
genre share vs the catalog, feature correlations with their confidence intervals and the
low-valence streak calendar. A banner says when the data is the synthetic demo, and a note says
the page is for reflection, not diagnosis.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from moodlake.analytics.coverage import coverage as listener_coverage
from moodlake.analytics.insights import KINDS, WEEKDAYS, GoldFrames, load_gold

KIND_TITLES = {
    "descriptive": "What happened",
    "diagnostic": "Why (correlations, not causes)",
    "predictive": "What next",
    "prescriptive": "What to try",
    "cognitive": "Why the system says so",
}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#fafafa;color:#222}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
.banner{background:#ffb300;color:#000;padding:12px 24px;font-weight:700;text-align:center}
.note{background:#e8f0fe;border-left:4px solid #4a7bd0;padding:10px 14px;margin:16px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0;background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px}
figure.wide{grid-column:span 2}
figure img{width:100%;height:auto;display:block} figcaption{font-size:.85em;color:#555;margin-top:4px}
li{margin:4px 0} .muted{color:#777}
table.coverage{border-collapse:collapse;background:#fff}
table.coverage td,table.coverage th{border:1px solid #e3e3e3;padding:4px 10px}
table.coverage td+td{text-align:right}
"""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def chart_heatmap(frame: pd.DataFrame) -> str:
    """Plays per listener-local weekday x hour."""
    grid = np.zeros((7, 24))
    for _, row in frame.iterrows():
        grid[int(row["local_weekday"]) - 1, int(row["local_hour"])] = row["plays"]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    image = ax.imshow(grid, aspect="auto", cmap="magma_r")
    ax.set_yticks(range(7), [WEEKDAYS[d][:3] for d in range(1, 8)])
    ax.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)])
    ax.set_xlabel("local hour")
    fig.colorbar(image, ax=ax, label="plays")
    ax.set_title("When you listen (local time)")
    return _png(fig)


def chart_mood_over_time(daily: pd.DataFrame) -> str:
    """Weekly mean valence and energy (play-weighted) from the daily mood calendar."""
    frame = daily.dropna(subset=["mean_valence"]).copy()
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    frame["week"] = frame["local_date"].dt.to_period("W").dt.start_time
    frame["valence_sum"] = frame["mean_valence"] * frame["plays_with_features"]
    frame["energy_sum"] = frame["mean_energy"] * frame["plays_with_features"]
    weekly = frame.groupby("week")[["valence_sum", "energy_sum", "plays_with_features"]].sum()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    if not weekly.empty:
        ax.plot(weekly.index, weekly["valence_sum"] / weekly["plays_with_features"], label="valence", color="#d9822b")
        ax.plot(weekly.index, weekly["energy_sum"] / weekly["plays_with_features"], label="energy", color="#3b6ea5")
    ax.set_ylim(0, 1)
    ax.set_ylabel("weekly mean")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Mood over time")
    fig.autofmt_xdate()
    return _png(fig)


def chart_genre_share(gap: pd.DataFrame) -> str:
    """Your share of plays vs the catalog's share of tracks, per catalog genre."""
    genres = gap[gap["genre_level"] == "genre"].sort_values("user_share", ascending=False).head(12)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    x = np.arange(len(genres))
    ax.bar(x - 0.2, genres["user_share"], width=0.4, label="you (plays)", color="#3b6ea5")
    ax.bar(x + 0.2, genres["catalog_share"], width=0.4, label="catalog (tracks)", color="#bbbbbb")
    ax.set_xticks(x, genres["genre"], rotation=30, ha="right")
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    ax.set_title("Genre share: you vs the catalog")
    return _png(fig)


def chart_correlations(corr: pd.DataFrame) -> str:
    """Overall r with 95% CI per feature for each outcome."""
    overall = corr[corr["daypart"] == "all"]
    outcomes = ["skip", "completion", "play_count"]
    bound = overall[["ci_low", "ci_high", "r"]].abs().max().max()
    limit = min(1.0, max(0.1, 1.2 * float(bound))) if pd.notna(bound) else 1.0
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), sharey=True)
    for ax, outcome in zip(axes, outcomes, strict=True):
        rows = overall[overall["outcome"] == outcome].sort_values("feature")
        y = np.arange(len(rows))
        r = rows["r"].fillna(0).to_numpy()
        low = (r - rows["ci_low"].fillna(pd.Series(r, index=rows.index))).to_numpy()
        high = (rows["ci_high"].fillna(pd.Series(r, index=rows.index)) - r).to_numpy()
        colors = ["#3b6ea5" if s else "#bbbbbb" for s in rows["is_significant"]]
        ax.barh(y, r, color=colors, xerr=[np.abs(low), np.abs(high)], capsize=2)
        ax.axvline(0, color="#444", lw=0.8)
        ax.set_yticks(y, rows["feature"])
        ax.set_xlim(-limit, limit)
        ax.set_title(outcome.replace("_", " "), fontsize=10)
    fig.suptitle("Audio features vs behaviour: Pearson r, 95% CI (blue = CI excludes 0)", fontsize=10, y=1.04)
    return _png(fig)


def chart_streak_calendar(daily: pd.DataFrame, streaks: pd.DataFrame) -> str:
    """The last 52 weeks as a calendar of daily mean valence; low-valence streak days outlined."""
    fig, ax = plt.subplots(figsize=(9, 2.4))
    frame = daily.copy()
    if frame.empty:
        return _png(fig)
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    end = frame["local_date"].max()
    start = end - pd.Timedelta(days=363)
    start -= pd.Timedelta(days=start.weekday())
    weeks = (end - start).days // 7 + 1
    grid = np.full((7, weeks), np.nan)
    values = frame.set_index("local_date")["mean_valence"]
    streak_days: set[pd.Timestamp] = set()
    for _, row in streaks.iterrows():
        streak_days.update(pd.date_range(row["started_on"], row["ended_on"]))
    for day, value in values.items():
        if day >= start:
            offset = (day - start).days
            grid[offset % 7, offset // 7] = value
    ax.imshow(grid, aspect="auto", cmap="RdYlBu", vmin=0, vmax=1)
    for day in streak_days:
        if start <= day <= end:
            offset = (day - start).days
            ax.add_patch(plt.Rectangle((offset // 7 - 0.5, offset % 7 - 0.5), 1, 1, fill=False, edgecolor="black", lw=1.2))
    ax.set_yticks(range(7), [WEEKDAYS[d][:3] for d in range(1, 8)])
    months = pd.date_range(start, end, freq="MS")
    ax.set_xticks([(m - start).days // 7 for m in months], [m.strftime("%b") for m in months])
    ax.set_title("Daily mean valence (blue = brighter); outlined: low-valence streaks")
    return _png(fig)


def listener_charts(gold: GoldFrames, user: str) -> list[tuple[str, str]]:
    """(caption, data URI) for one listener's five charts."""

    def of(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["user_id"] == user]

    base = gold.bases.get(user)
    based = f" ({base.phrase()})" if base else ""  # charts built on audio features say what they rest on
    return [
        ("Hour x weekday: plays by listener-local time (all plays)", chart_heatmap(of(gold.hour_weekday))),
        (f"Mood over time: weekly mean valence and energy{based}", chart_mood_over_time(of(gold.daily))),
        (f"Genre share vs the catalog{based}", chart_genre_share(of(gold.genre_gap))),
        (f"Feature correlations with skips, completion and replays{based}", chart_correlations(of(gold.correlations))),
        (f"Streak calendar: daily mood, low-valence runs outlined{based}",
         chart_streak_calendar(of(gold.daily), of(gold.streaks))),
    ]


LEVEL_LABELS = {"track_id": "track id", "track_name": "artist + title", "artist": "artist estimate only",
                "unknown": "unknown"}


def coverage_section(listeners: list[dict[str, Any]]) -> list[str]:
    """Per listener: plays and minutes per match level, and the artists the catalogs miss most."""
    if not listeners:
        return []
    parts = ["<h2 id='coverage'>Coverage: what the catalogs know of your listening</h2>",
             "<p class='muted'>Audio-feature numbers above rest on the two track levels; counts and times use "
             "every play.</p>"]
    for item in listeners:
        plays, minutes = item["plays"], item["minutes"]
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{item['by_level'][level]:,}</td>"
            f"<td>{item['by_level'][level] / plays:.1%}</td><td>{item['minutes_by_level'][level]:,.0f}</td>"
            f"<td>{item['minutes_by_level'][level] / minutes:.1%}</td></tr>"
            for level, label in LEVEL_LABELS.items() if plays and minutes
        )
        parts.append(
            f"<h3>{html.escape(item['user_id'])}: {plays:,} music plays, {minutes:,.0f} minutes</h3>"
            "<table class='coverage'><tr><th>matched by</th><th>plays</th><th>share of plays</th><th>minutes</th>"
            f"<th>share of minutes</th></tr>{rows}</table>"
        )
        missing = item["top_unmatched_artists"][:10]
        if missing:
            names = ", ".join(f"{html.escape(a['artist_name'])} ({a['minutes']:,.0f} min)" for a in missing)
            parts.append(f"<p>Most-played artists without track-level features: {names}.</p>")
    return parts


def render_html(insights: dict[str, list[str]], charts: dict[str, list[tuple[str, str]]], demo: bool, generated_at: str,
                coverage: list[dict[str, Any]] | None = None) -> str:
    """The whole page as one string; every dynamic text is HTML-escaped."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>Moodlake report</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    if demo:
        parts.append("<div class='banner' id='demo-banner'>DEMO DATA: synthetic listeners, not a real person's listening</div>")
    parts.append("<main><h1>Moodlake report</h1>")
    parts.append(f"<p class='muted'>Generated {html.escape(generated_at)}</p>")
    parts.append(
        "<div class='note'><strong>Reflection, not diagnosis.</strong> These numbers describe the music that was "
        "played (its valence and energy), not how anyone feels. Correlations are not causes.</div>"
    )
    for kind in KINDS:
        sentences = insights.get(kind, [])
        parts.append(f"<h2>{html.escape(KIND_TITLES[kind])} <span class='muted'>({kind})</span></h2>")
        if sentences:
            parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ul>")
        else:
            parts.append("<p class='muted'>Nothing yet: the stage that writes these has not run.</p>")
    parts += coverage_section(coverage or [])
    for user, figures in charts.items():
        parts.append(f"<h2>Charts: {html.escape(user)}</h2><div class='grid'>")
        for caption, uri in figures:
            label = html.escape(caption)
            wide = " class='wide'" if caption.startswith(("Streak", "Feature")) else ""
            parts.append(f"<figure{wide}><img alt='{label}' src='{uri}'><figcaption>{label}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(spark: Any, insights: dict[str, list[str]], demo: bool, out_dir: Path) -> Path:
    """Draw every listener's charts and write out_dir/report.html."""
    gold = load_gold(spark)
    charts = {user: listener_charts(gold, user) for user in gold.users}
    demo = demo or (bool(gold.users) and all(u in gold.demo_users for u in gold.users))
    page = render_html(insights, charts, demo, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                       coverage=listener_coverage(spark))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
