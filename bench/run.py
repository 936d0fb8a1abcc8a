"""`make bench`: measure the pipeline and the serving stack on this machine, write bench/RESULTS.md.

Why a script and not timed assertions: timings depend on the host, so tests assert behaviour and
this bench records numbers with the machine they came from. Everything runs in a fresh, separate
Moodlake home (``$MOODLAKE_HOME/bench``), so the user's own warehouse is never touched.

What is measured:
1. ``moodlake run`` on the bundled DEMO data from an empty home: wall time and every stage.
2. A second ``moodlake run`` on the same home: the idempotent re-run (Bronze must gain no rows).
3. Serving: Trino + Superset started by ``moodlake serve`` code, every dashboard opened in Chromium,
   then the SQL those dashboards sent to Trino is read from ``system.runtime.queries`` and each
   distinct statement is re-run through the ``trino`` client (median of warm runs).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from moodlake.app.console import make_console  # noqa: E402
from moodlake.core.settings import Settings, load_settings  # noqa: E402

console = make_console()


def run_pipeline(home: Path) -> dict[str, Any]:
    """One `moodlake run` in a subprocess (its own JVM, like a user's); wall time + summary.json."""
    env = {**os.environ, "MOODLAKE_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "moodlake", "run"], env=env, cwd=REPO, text=True,
                          capture_output=True)
    wall = time.perf_counter() - t0
    (home / "bench-logs").mkdir(parents=True, exist_ok=True)
    log = home / "bench-logs" / f"run-{int(time.time())}.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"moodlake run failed (exit {proc.returncode}); log: {log}")
    summary = json.loads((home / "reports" / "latest" / "summary.json").read_text())
    return {"wall": wall, "summary": summary}


def time_dashboards(settings: Settings, repeats: int, spark_counts: dict[str, int], screens: Path) -> dict[str, Any]:
    """Bring up the stack, check Trino's counts against Spark's, render every dashboard, and time
    the SQL the dashboards sent to Trino."""
    from moodlake.app.serving import serve_stack, stop_stack
    from moodlake.serve import superset, trino
    from moodlake.serve.browser import CHROMIUM, check_dashboards
    from moodlake.serve.stack import DASHBOARDS

    t0 = time.perf_counter()
    serve_stack(settings, console)
    startup = time.perf_counter() - t0
    out: dict[str, Any] = {"stack_start_seconds": startup, "dashboards": {}, "queries": [], "counts": {}}
    try:
        for name, rows in spark_counts.items():
            if name.startswith(("gold.", "silver.")):
                out["counts"][name] = {"spark": rows, "trino": trino.query(settings, f"select count(*) from delta.{name}")[0][0]}
        if not CHROMIUM.exists():
            raise SystemExit("Debian chromium is missing: run serving/install.sh first")
        since = trino.query(settings, "select current_timestamp")[0][0]
        checks = check_dashboards(superset.base_url(settings), superset.ADMIN_USER, superset.admin_password(settings),
                                  list(DASHBOARDS), screens)
        for check in checks:
            out["dashboards"][check.slug] = {"charts": check.charts, "problems": check.problems}
        rows = trino.query(
            settings,
            "select query, date_diff('millisecond', created, \"end\") from system.runtime.queries "
            f"where created >= from_iso8601_timestamp('{since.isoformat()}') and state = 'FINISHED' "
            "and lower(query) like '%serving.%' order by created",
        )
        first_seen: dict[str, float] = {}
        for sql, ms in rows:
            first_seen.setdefault(sql, ms / 1000)
        conn = trino.connect(settings)
        try:
            for sql, cold in first_seen.items():
                runs = []
                for _ in range(repeats):
                    cur = conn.cursor()
                    q0 = time.perf_counter()
                    cur.execute(sql)
                    cur.fetchall()
                    runs.append(time.perf_counter() - q0)
                view = re.search(r'serving"?\."?(\w+)', sql, re.IGNORECASE)
                out["queries"].append({"view": f"serving.{view.group(1) if view else '?'}", "from_dashboard_s": cold,
                                       "median_s": statistics.median(runs), "max_s": max(runs), "sql": sql})
        finally:
            conn.close()
    finally:
        stop_stack(settings, console)
    return out


def machine() -> dict[str, str]:
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return {"cpus": str(os.cpu_count()), "memory": f"{int(mem) / 1024 / 1024:.0f} GiB", "os": platform.platform(),
            "python": platform.python_version(), "java": java, "load_before": f"{os.getloadavg()[0]:.2f}"}


def write_results(path: Path, info: dict[str, str], runs: list[dict[str, Any]], serving: dict[str, Any] | None) -> None:
    lines = [
        "# Bench results", "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` (bench/run.py) on: "
        f"{info['cpus']} CPUs, {info['memory']}, {info['os']}, Python {info['python']}, {info['java']}; "
        f"1-min load average before the bench: {info['load_before']}.",
        "All on the bundled DEMO data (generated listening histories + the TidyTuesday catalog). "
        "Spark `local[*]`, files on local disk. ML numbers are in [ML_RESULTS.md](ML_RESULTS.md).", "",
        "## `moodlake run` (what `make run` does after set-up)", "",
    ]
    stages = list(runs[0]["summary"]["stages"])
    lines += ["| stage | " + " | ".join(f"run {i + 1} (s)" for i in range(len(runs))) + " |",
              "|---|" + "---:|" * len(runs)]
    for stage in stages:
        cells = [f"{r['summary']['stages'].get(stage, {}).get('seconds', float('nan')):.1f}" for r in runs]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| **wall time, process start to exit** | " + " | ".join(f"**{r['wall']:.0f}**" for r in runs) + " |")
    lines += ["", "Run 1 starts from an empty home; run 2 repeats it on the same home "
              "(Bronze is content-hash idempotent, dbt models are incremental where data arrives incrementally).", ""]
    ingest = [r["summary"]["stages"].get("ingest", {}) for r in runs]
    lines.append("| ingest | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " |")
    lines.append("|---|" + "---:|" * len(runs))
    for key in ("input_records", "inserted", "already_present", "quarantined", "skipped"):
        lines.append(f"| {key} | " + " | ".join(f"{i[key]:,}" if key in i else "n/a" for i in ingest) + " |")
    seconds = ingest[0].get("seconds") or 0
    if seconds:
        lines += ["", f"Bronze landing throughput, run 1: {ingest[0].get('input_records', 0) / seconds:,.0f} "
                  "input records/s (catalog + demo histories, parse + validate + Delta MERGE)."]
    tables = runs[0]["summary"]["tables"]
    layers: dict[str, tuple[int, int]] = {}
    for name, rows in tables.items():
        n, total = layers.get(name.split(".")[0], (0, 0))
        layers[name.split(".")[0]] = (n + 1, total + rows)
    lines += ["", "| schema | tables | rows |", "|---|---:|---:|"]
    lines += [f"| {k} | {n} | {total:,} |" for k, (n, total) in sorted(layers.items())]
    if serving:
        lines += ["", "## Serving: dashboard queries through Trino 476", "",
                  f"Stack start (Trino, table registration, dbt-trino views, Superset set-up and import): "
                  f"{serving['stack_start_seconds']:.0f} s. Every dashboard was opened in headless Chromium; "
                  "the statements Superset sent to Trino were read from `system.runtime.queries` and each "
                  f"distinct one re-run {serving['repeats']} times through the `trino` client.", "",
                  ]
        counts = serving.get("counts", {})
        if counts:
            same = [n for n, c in counts.items() if c["spark"] == c["trino"]]
            differ = {n: c for n, c in counts.items() if c["spark"] != c["trino"]}
            lines += [f"Row counts through Trino equal Spark's for {len(same)} of {len(counts)} Silver and Gold tables"
                      + (f"; differing: {differ}" if differ else "") + ".", ""]
        lines += ["| dashboard | charts | problems |", "|---|---:|---|"]
        for slug, d in serving["dashboards"].items():
            lines.append(f"| {slug} | {d['charts']} | {'; '.join(d['problems']) or 'none'} |")
        qs = serving["queries"]
        lines += ["", f"{len(qs)} distinct dashboard statements.", "",
                  "| view | first run from the dashboard (s) | warm median (s) | warm max (s) |",
                  "|---|---:|---:|---:|"]
        for q in sorted(qs, key=lambda q: -q["median_s"]):
            lines.append(f"| {q['view']} | {q['from_dashboard_s']:.2f} | {q['median_s']:.2f} | {q['max_s']:.2f} |")
        if qs:
            med = statistics.median(q["median_s"] for q in qs)
            lines += ["", f"Median over statements of the warm median: {med:.2f} s; "
                      f"slowest: {max(q['median_s'] for q in qs):.2f} s."]
    path.write_text("\n".join(lines) + "\n")


def main(runs: int = 2, serving: bool = True, repeats: int = 5, out: Path = REPO / "bench" / "RESULTS.md",
         screens: Path | None = None, reuse: bool = False) -> None:
    """Run the bench in a fresh home and write the Markdown results."""
    from moodlake.serve.procs import free_port

    base = load_settings()
    home = base.home / "bench"
    info = machine()
    results = []
    if reuse:
        results = json.loads((home / "bench.json").read_text())["runs"]
    else:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        for i in range(runs):
            console.print(f"[bold]moodlake run {i + 1}/{runs}[/] (MOODLAKE_HOME={home})")
            results.append(run_pipeline(home))
            console.print(f"  {results[-1]['wall']:.0f} s")
    timing = None
    if serving:
        settings = load_settings(home=home, warehouse=None, trino_port=free_port(), superset_port=free_port(),
                                 cache_dir=base.cache_dir)
        timing = time_dashboards(settings, repeats, results[-1]["summary"]["tables"], screens or home / "bench-screens")
        timing["repeats"] = repeats
    (home / "bench.json").write_text(json.dumps({"machine": info, "runs": results, "serving": timing}, default=str,
                                                indent=2))
    write_results(out, info, results, timing)
    console.print(f"results: {out}")


def parse_args(argv: list[str] | None = None) -> dict[str, Any]:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=2, help="consecutive `moodlake run`s on one fresh home")
    parser.add_argument("--serving", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the dashboards through Trino")
    parser.add_argument("--repeats", type=int, default=5, help="warm re-runs per dashboard statement")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md", help="results file")
    parser.add_argument("--screens", type=Path, default=None, help="dashboard screenshots (default: in the bench home)")
    parser.add_argument("--reuse", action="store_true", help="keep the last bench home and its runs; redo only serving")
    return vars(parser.parse_args(argv))


if __name__ == "__main__":
    main(**parse_args())
