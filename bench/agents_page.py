"""The Agents page at 10^4 and 10^6 sessions on PostgreSQL: `/sessions` and `/api/sessions`, p50 / p99 and req/s.

    .venv/bin/python -m bench.agents_page [--smoke] [--out DIR] [--sizes 10000,1000000] [--seconds 5]
                                          [--rounds 3] [--connections 2]

`make bench` runs it as the report's agents_page section. How it measures: HOW below (the report
prints it). Issue 16's targets: the first page under 200 ms p99 at 10^4 sessions, and at 10^6 no
worse than twice the figure at 10^4.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import agents_explain, agents_seed, wrk  # noqa: E402
from bench.agents_drive import CELLS, LOADS, QUIET, Load, drive  # noqa: E402
from bench.servers import PG_ADMIN_URL, pg_create, pg_drop, pg_required  # noqa: E402

TITLE = "Agents page: `/sessions` and `/api/sessions` at 10⁴ and 10⁶ sessions on PostgreSQL"
SIZES = {False: [10_000, 1_000_000], True: [300, 1_000]}


TARGET_P99_MS = 200.0
BUSY = "†"  # marks a cell measured while something else kept the CPUs busy
HOW = (
    "For each size, a fresh PostgreSQL database (tests/harness/stack.py's `Stack.create(database=\"pg\")`), "
    "migrated, then loaded by bench/agents_seed.py: sessions over 200 repositories in 20 installations (one, the "
    "large customer, holding a tenth), titled pull requests, nearly all finished, the newest 50 still queued or "
    "running; and a person signed in as the bot would have it after GitHub's OAuth flow (their browser session and "
    "sealed token stored with `Accounts.open_session`, what they may see asked of the fake GitHub once with "
    "`UserAccess` and cached for the run, their cookie signed with the bot's own key), who sees 10 repositories. "
    "The bot is served as deployed on PostgreSQL: gunicorn with the repository's gunicorn.conf.py, 2 sync workers, "
    "`BOT_INLINE_WORKERS=0` (job workers are processes of their own and serve no page), `ADMIN_TOKEN` and sign-in "
    "configured against the fake GitHub. The operator asks with `Authorization: Bearer`, the person with their "
    "session cookie. A request reaching GitHub while measuring would be a failure; so would an answer other than "
    "the cell's status, or a session of a repository the person cannot access.")
ADMIN_TOKEN = "bench-admin-" + secrets.token_hex(16)


def bot_settings(fake) -> dict[str, str]:
    """The bot's settings beyond the stack's own: the operator's token, sign-in against the fake GitHub."""
    return {"ADMIN_TOKEN": ADMIN_TOKEN, "SECRET_KEY": secrets.token_urlsafe(32), "GITHUB_URL": fake.web_url,
            "GITHUB_CLIENT_ID": fake.client_id, "GITHUB_CLIENT_SECRET": fake.client_secret,
            # The person's access, asked of GitHub once at set-up, outlives the run: no GitHub call while measuring.
            "USER_ACCESS_CACHE_SECONDS": "86400", "BOT_INLINE_WORKERS": "0", "LOG_LEVEL": "info",
            "REDELIVERY_INTERVAL_SECONDS": "0"}


def measure_size(n: int, load: Load) -> dict:
    """Seed n sessions, serve them, measure every cell; the figures and anything that must not happen."""
    from bot.app import create_app, runtime_of
    from bot.config import load_settings
    from bot.db import upgrade
    from tests.harness.stack import Stack

    stack = Stack.create(database="pg", pg_admin_url=PG_ADMIN_URL)
    app = None
    try:
        upgrade(stack.engine)
        seeded = agents_seed.load(stack.engine, n, stack.fake)
        settings = bot_settings(stack.fake)
        app = create_app(load_settings({**stack.env, **settings, "LOG_LEVEL": "warning"}, dotenv=None))
        person = agents_seed.sign_in(app, stack.fake)
        headers = {"nobody": {}, "operator": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
                   "person": {"Cookie": person.cookie}}
        web = stack.start_web(workers=2, **settings)
        asked_before = len(stack.fake.requests)
        cells, problems = drive(web.url, headers, person, load, tag=f"{n:>9}  ")
        failures = [f"{n:,} sessions, {problem}" for problem in problems]
        github_calls = len(stack.fake.requests) - asked_before
        if github_calls:
            failures.append(f"{n:,} sessions: {github_calls} request(s) reached GitHub while the pages were measured")
        explained = {cell.key: {"viewer": cell.viewer, **agents_explain.explain(app, cell.path, headers[cell.viewer])}
                     for cell in CELLS if cell.status == 200 and cell.viewer != "nobody"}
        failures += [f"{n:,} sessions, `GET {page['path']}` in-process as {page['viewer']}: answered {page['status']}"
                     for page in explained.values() if page["status"] != 200]
    finally:
        if app is not None:
            runtime_of(app).dispose()
        stack.stop()
    return {"sessions": n, "seed": seeded, "person": {"repositories": len(person.repository_ids),
                                                      "sessions": person.sessions},
            "cells": cells, "explained": explained, "failures": failures}


def targets(sizes: list[int], results: dict[int, dict]) -> list[dict]:
    """Issue 16's: each first page under 200 ms p99 at the smaller size, at the larger no worse than twice that."""
    small, large = sizes[0], sizes[-1]
    found = []
    for cell in (c for c in CELLS if c.target):
        small_cell, large_cell = results[small]["cells"].get(cell.key, {}), results[large]["cells"].get(cell.key, {})
        p99_small, p99_large = small_cell.get("p99_ms"), large_cell.get("p99_ms")
        name = f"{cell.label} first page as the {cell.viewer}"
        found.append({"target": f"{name}: p99 < {TARGET_P99_MS:.0f} ms at {small:,} sessions",
                      "figure": "not measured" if p99_small is None else f"{p99_small:.1f} ms{_busy(small_cell)}",
                      "met": None if p99_small is None else p99_small < TARGET_P99_MS,
                      "cell": cell.key, "sizes": [small]})
        if len(sizes) > 1:
            ratio = p99_large / p99_small if p99_small and p99_large is not None else None
            figure = (f"{p99_large:.1f} ms{_busy(large_cell)} vs {p99_small:.1f} ms{_busy(small_cell)} (×{ratio:.2f})"
                      if ratio else "not measured")
            found.append({"target": f"{name}: p99 at {large:,} ≤ 2 × at {small:,}", "figure": figure,
                          "met": None if ratio is None else ratio <= 2.0, "cell": cell.key, "sizes": [small, large]})
    return found


def _busy(figures: dict) -> str:
    return f" {BUSY} (machine busy)" if figures.get("busy") else ""


def why_missed(found: list[dict], results: dict[int, dict]) -> list[str]:
    """For each target missed, each cell concerned beside its request's own time in-process and its SQL's."""
    lines = []
    for target in (t for t in found if t["met"] is False):
        cell = next(c for c in CELLS if c.key == target["cell"])
        for n in target["sizes"]:
            figures, page = results[n]["cells"][cell.key], results[n]["explained"].get(cell.key)
            line = (f"- {cell.label} as the {cell.viewer} at {n:,} sessions: p50 {figures['p50_ms']:.1f} / p99 "
                    f"{figures['p99_ms']:.1f} ms{_busy(figures)}")
            if page:
                line += (f"; in-process the request takes {page['request_ms']:.1f} ms, {page['sql_ms']:.1f} ms of it "
                         "in SQL")
                slowest = max(page["statements"], key=lambda s: s["ms"], default=None)
                if slowest:
                    line += f" (the slowest statement {slowest['ms']:.1f} ms: {slowest['reads']})"
            if line + "." not in lines:
                lines.append(line + ".")
    return lines


def markdown(sizes: list[int], results: dict[int, dict], load: Load, found: list[dict]) -> str:
    """The section's text: how it was measured, the cells side by side, where the time goes."""
    lines = [HOW, "",
             f"wrk, {load.connections} connections (with 2, both gunicorn workers always busy), each sending its next "
             f"request when the last is answered; {load.rounds} round(s), each cell {load.warmup} s of warm-up then "
             f"{load.seconds} s measured, the cells' order rotating each round; a cell's figures are its median "
             "round's, with the worst round's p99 in brackets. gunicorn's sync workers close each connection, so every "
             "request pays a connect (outside wrk's latency, timed from the request's write).", ""]
    for n in sizes:
        seed, person = results[n]["seed"], results[n]["person"]
        lines.append(f"- {n:,} sessions: loaded in {seed['load_s']} s ({seed['bulk_load_s']} s of them the sessions' "
                     f"bulk load); the person sees {person['repositories']} repositories, {person['sessions']:,} "
                     f"sessions; {min(agents_seed.RUNNING, n)} running.")
    header = " | ".join(f"{n:,}: p50 / p99 (worst) ms | req/s" for n in sizes)
    lines += ["", f"| view | as | {header} | p99 × |", "| --- | --- |" + " ---: | ---: |" * len(sizes) + " ---: |"]
    for cell in CELLS:
        figures = [results[n]["cells"].get(cell.key) for n in sizes]
        cells = [f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f} ({f['worst_p99_ms']:.0f}){BUSY if f['busy'] else ''} | "
                 f"{f['rps']:.0f}" if f else "— | —" for f in figures]
        ratio = (f"{figures[-1]['p99_ms'] / figures[0]['p99_ms']:.2f}"
                 if len(sizes) > 1 and all(figures) and figures[0]["p99_ms"] else "—")
        lines.append(f"| {cell.label} | {cell.viewer} | " + " | ".join(cells) + f" | {ratio} |")
    if any(f.get("busy") for n in sizes for f in results[n]["cells"].values()):
        lines += ["", f"{BUSY} In most rounds of this cell the CPUs were not {QUIET:.0%} idle for half a second within "
                  f"{load.quiet:g} s before it: something else was running on the machine, and its p99 tells more "
                  "about that than about the page."]
    missed = why_missed(found, results)
    if missed:
        lines += ["", "Targets missed, beside what the request itself costs (the table below has its statements):", "",
                  *missed]
    lines += ["", agents_explain.markdown({n: results[n]["explained"] for n in sizes})]
    return "\n".join(lines) + "\n"


def run(smoke: bool, *, sizes: list[int] | None = None, load: Load | None = None) -> dict:
    """The report's agents_page section (bench/report.py)."""
    sizes, load = sizes or SIZES[smoke], load or LOADS[smoke]
    probe, why = pg_create("sb_bench_probe_")  # is there a PostgreSQL to measure on?
    if probe is None or not wrk.installed():
        why = why or "wrk is not installed (make bench-tools installs it)"
        if pg_required():
            raise RuntimeError(why)
        return {"title": TITLE, "markdown": f"Not measured: {why}.\n", "data": {"skipped": why}, "targets": [],
                "failures": []}
    pg_drop(probe)
    results = {n: measure_size(n, load) for n in sizes}
    found = targets(sizes, results)
    return {"title": TITLE, "markdown": markdown(sizes, results, load, found),
            "data": {"sizes": sizes, "load": asdict(load), "results": {str(n): r for n, r in results.items()}},
            "targets": found, "failures": [f for r in results.values() for f in r["failures"]]}


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench.report import run_alone

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts, 1 s per cell (CI); asserts no timings")
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    parser.add_argument("--sizes", help="comma-separated session counts (default 10000,1000000; smoke 300,1000)")
    parser.add_argument("--seconds", type=int, help="measured seconds per cell and round (default 5; smoke 1)")
    parser.add_argument("--rounds", type=int, help="rounds of every cell (default 3; smoke 1)")
    parser.add_argument("--connections", type=int, help="wrk's connections (default 2)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else None
    load = LOADS[args.smoke]
    load = replace(load, seconds=args.seconds or load.seconds, rounds=args.rounds or load.rounds,
                   connections=args.connections or load.connections)
    return run_alone("agents_page", lambda: run(args.smoke, sizes=sizes, load=load), smoke=args.smoke, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
