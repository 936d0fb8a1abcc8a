"""Bodies of `moodlake recommend` and `moodlake explain`: Gold in, a table or JSON out.

Kept out of moodlake/app/cli.py so the CLI module stays a thin, fast-importing list of commands.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from moodlake.core.settings import Settings


def _recommender(settings: Settings, tables: dict[str, str] | None = None) -> Any:
    from ml.policy import PolicyConfig
    from ml.recommend import Recommender, load_inputs
    from moodlake.core.spark import get_spark

    spark = get_spark(settings)
    names = tables or {}
    inputs = load_inputs(spark, **{k: v for k, v in names.items() if k != "out_table"})
    return Recommender(spark, inputs, PolicyConfig.from_settings(settings))


def _pick_user(rec: Any, user: str | None, console: Console, quiet: bool) -> str:
    if user:
        return user
    users = rec.users
    if not users:
        raise ValueError("gold.fct_plays has no listeners yet: ingest a history and run `moodlake transform`")
    if len(users) > 1 and not quiet:
        console.print(f"[dim]listener {users[0]} (choose with --user: {', '.join(users)})[/dim]")
    return users[0]


def run_recommend(settings: Settings, console: Console, user: str | None, mode: str, n: int, context: str,
                  new_artists_only: bool, as_json: bool, tables: dict[str, str] | None = None) -> None:
    """Build the list, write it to gold.ml_recommendations and show it.

    `tables` overrides input/output table names (plays_table, tracks_table, ml_schema, out_table).
    """
    from ml.recommend import DISCLAIMER, RECOMMENDATIONS_TABLE, write_recommendations

    rec = _recommender(settings, tables)
    user_id = _pick_user(rec, user, console, as_json)
    if mode in ("mirror", "coach"):
        result = rec.recommend(user_id, mode, n=n, context=context, new_artists_only=new_artists_only)
    elif mode == "discovery":
        result = rec.discovery(user_id, n=n)
    elif mode == "world":
        result = rec.you_vs_world(user_id, n=n)
    else:
        raise ValueError(f"--mode must be mirror, coach, discovery or world, not {mode!r}")
    write_recommendations(rec.spark, [result], (tables or {}).get("out_table", RECOMMENDATIONS_TABLE))
    base = result.base
    if as_json:
        payload = {"user_id": user_id, "mode": result.mode, "context": result.context, "framing": result.framing,
                   "base": base.as_dict() if base else None, "base_sentence": base.sentence() if base else None,
                   "neighbourhood": result.neighbourhood, "note": DISCLAIMER, "recommendations": result.records()}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    print_recommendation(console, result)
    console.print(f"[dim]{DISCLAIMER} Written to gold.ml_recommendations.[/dim]")


def print_recommendation(console: Console, result: Any) -> None:
    """Framing, the base line (what the list rests on), where the candidates came from, then the table.

    Catalog text goes through ``escape``: a title like "Song [Live]" is text, not rich markup.
    """
    console.print(escape(result.framing))
    if result.base is not None:
        for line in result.base.lines():
            console.print(escape(line))
    if result.neighbourhood:
        console.print(escape(f"Candidates: {result.neighbourhood}"))
    table = Table(title=escape(f"{result.mode} · {result.user_id} · {result.context}"), show_lines=False)
    numeric = ("valence", "energy", "tempo", "match_score", "improvement_score")
    for col in ("#", "track", "artist", "genre", *numeric, "reason"):
        table.add_column(col, overflow="fold", justify="right" if col in ("#", *numeric) else "left")
    for row in result.records():
        table.add_row(str(row["rank"]), escape(str(row["track_name"])), escape(str(row["artist_name"])),
                      escape(str(row["genre"])), f"{row['valence']:.2f}", f"{row['energy']:.2f}", f"{row['tempo']:.0f}",
                      f"{row['match_score']:.3f}", f"{row['improvement_score']:.3f}", escape(str(row["reason"])))
    console.print(table)


def run_explain(settings: Settings, console: Console, track_id: str, user: str | None, mode: str,
                as_json: bool) -> None:
    """Both scores, the policy sentence and SHAP contributions for one catalog track."""
    from ml.recommend import explain_track

    rec = _recommender(settings)
    user_id = _pick_user(rec, user, console, as_json)
    info = explain_track(rec, track_id, user_id, mode)
    if as_json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]{escape(info['track_name'])}[/bold] — {escape(info['artist_name'])} ({escape(info['genre'])}) "
                  f"for {escape(user_id)}")
    console.print(f"match_score {info['match_score']:.3f} (better than {info['match_percentile']:.0%} of the catalog; "
                  f"taste {info['taste_score']:.3f}: {escape(info['neighbourhood'])}), "
                  f"improvement_score {info['improvement_score']:.3f}")
    for line in info["base_lines"]:
        console.print(escape(line))
    console.print(escape(info["reason"]))
    if info["shap"]:
        table = Table(title="preference model (SHAP)")
        for col in ("feature", "value", "contribution"):
            table.add_column(col)
        for item in info["shap"]:
            table.add_row(str(item["feature"]), f"{item['value']:.3f}", f"{item['contribution']:+.3f}")
        console.print(table)
    else:
        console.print(f"[dim]no SHAP contributions for this track ({info['shap_source']})[/dim]")
    console.print(f"[dim]{info['note']}[/dim]")
