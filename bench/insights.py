"""The insights report for a repository with 10^5 sessions on PostgreSQL: the query, `/insights` and the CLI.

    .venv/bin/python -m bench.insights [--smoke] [--out DIR] [--sessions 100000] [--runs 30]

`make bench` runs it as the report's insights section. Issue 20's target: the report for a repository with
10^5 sessions answers in under 500 ms on PostgreSQL. How it measures: HOW below (the report prints it).
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench import agents_explain, agents_seed, index_queries  # noqa: E402
from bench.servers import pg_create, pg_drop, pg_required  # noqa: E402

TITLE = "Insights: the report of a repository with 10⁵ sessions on PostgreSQL"
REPOSITORIES = 3  # each holds a third of the sessions: the one reported on, and two beside it
PER_REPOSITORY = {False: 100_000, True: 1_000}
RUNS = {False: 30, True: 3}
TARGET_MS = 500.0
LARGE = "org/repo-0"
ADMIN_TOKEN = "bench-admin-" + secrets.token_hex(16)
HOW = (
    "A fresh PostgreSQL database, migrated, then loaded by bench/index_queries.py's bulk load (`generate_series`) "
    f"with {REPOSITORIES} repositories of n sessions each over the last ~35 days (the newest 50 still queued or "
    "running; 16 in 20 finished ones completed, the rest failed, cancelled or timed out), their installations, "
    "repositories and the agent's pull requests derived as bench/agents_seed.py does (half of the closed ones "
    "merged); the time of 4 finished runs in 5 read from their jobs (`run_times`), 7 failures in 10 with a stored "
    "summary already classified (`summary_causes`, and a placeholder summary each), a quarter of the cancelled "
    "ones stopped by the watchdog, one session in 500 marked stuck; then VACUUM ANALYZE. Measured in this "
    "process, on the bot's own app (setup mode: it has no GitHub to call), the operator asking with "
    "`Authorization: Bearer`: `report.build` alone, `GET /insights` (the query and the page's rendering), the CLI "
    "with `--json`, each run `runs` times after 3 warm-ups, p50 / p99; and the periodic job's look for "
    "summaries to classify when there is none. The page's SQL is then run again under EXPLAIN (ANALYZE, BUFFERS).")

SEED = [
    # Times end a minute ago, so `since=90d` (and `--since 90d`) holds every session.
    text("""UPDATE sessions SET created_at = created_at + :shift, started_at = started_at + :shift,
                                finished_at = finished_at + :shift, run_updated_at = run_updated_at + :shift"""),
    text("UPDATE pull_requests SET state = 'merged' WHERE state = 'closed' AND number % 2 = 0"),
    text("""INSERT INTO run_times (repository_id, run_id, run_attempt, seconds, jobs, read_at)
            SELECT repository_id, run_id, 1, (finished_at - started_at) * 0.9, 1, :now FROM sessions
            WHERE finished_at IS NOT NULL AND run_id % 5 <> 0"""),
    text("""INSERT INTO session_summaries (repository_id, run_id, run_attempt, summary, created_at)
            SELECT repository_id, run_id, run_attempt, '{}', :now FROM sessions
            WHERE state = 'failed' AND run_id % 10 < 7"""),
    text("""INSERT INTO summary_causes (repository_id, run_id, run_attempt, cause, classified_at)
            SELECT repository_id, run_id, run_attempt,
                   (ARRAY['setup', 'setup', 'tests', 'github', NULL])[1 + run_id % 5], :now
            FROM session_summaries"""),
    text("""INSERT INTO session_stops (installation_id, repository_id, repository, run_id, via, stopped_by,
                                       requested_at, outcome, reason, updated_at)
            SELECT installation_id, repository_id, repository, run_id, 'page', 'session-bot', finished_at,
                   'cancelled', 'auto-stop', :now FROM sessions WHERE state = 'cancelled' AND run_id % 4 = 0"""),
    text("UPDATE sessions SET stuck = 'unfinished', stuck_at = :now WHERE run_id % 500 = 0"),
    text("""INSERT INTO setup_steps_cache (installation_id, repository, present, checked_at)
            SELECT DISTINCT installation_id, lower(repository), false, :now FROM sessions"""),
]


def seed(engine, per_repository: int) -> dict:
    """Load the sessions and what the report reads beside them; seconds taken."""
    started = time.perf_counter()
    n = per_repository * REPOSITORIES
    index_queries.load(engine, n, repos=REPOSITORIES, installations=1, states=agents_seed.STATES)
    now = time.time()
    with engine.begin() as conn:
        newest = conn.execute(text("SELECT max(created_at) FROM sessions")).scalar()
        conn.execute(SEED[0], {"shift": now - 60 - newest})
        conn.execute(agents_seed.STILL_RUNNING, {"running": agents_seed.RUNNING, "queued": agents_seed.QUEUED})
        values = {"base": now, "titles": list(agents_seed.TITLES), "title_count": len(agents_seed.TITLES)}
        for statement in agents_seed.DERIVE:
            conn.execute(statement, values)
        for statement in SEED[1:]:
            conn.execute(statement, {"now": now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("sessions", "pull_requests", "repositories", "run_times", "summary_causes", "session_summaries",
                      "session_stops", "setup_steps_cache"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return {"sessions": n, "load_s": round(time.perf_counter() - started, 1)}


def timed(function, runs: int) -> dict:
    """p50 / p99 (ms) of `function()` over `runs` calls, after 3 warm-ups; its last answer."""
    for _ in range(3):
        function()
    timings, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = function()
        timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100) if len(timings) > 1 else timings * 99
    return {"p50_ms": round(cuts[49], 1), "p99_ms": round(cuts[98], 1), "runs": runs, "answer": answer}


def measure(per_repository: int, runs: int) -> dict:
    """Seed, then time each way of asking for the report; the figures and anything that must not happen."""
    from bot.app import create_app, runtime_of
    from bot.config import Settings
    from bot.db import make_engine, upgrade
    from bot.sessions import insights, report

    url, why = pg_create("sb_bench_insights_")
    if url is None:
        if pg_required():
            raise RuntimeError(why)
        return {"skipped": why}
    engine = make_engine(url)
    app = None
    try:
        upgrade(engine)
        seeded = seed(engine, per_repository)
        app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN, log_level="WARNING"))
        client, headers = app.test_client(), {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        path = f"/insights?repository={LARGE}&since=90d"

        def build(repository):
            with engine.connect() as conn:
                now = time.time()
                return report.build(conn, since=now - 90 * report.DAY, until=now, repository=repository,
                                    agent_logins=("Copilot",)).totals.figures.sessions

        def page():
            answer = client.get(path, headers=headers)
            return answer.status_code, len(answer.data)

        def cli():
            with app.app_context():
                printed = app.test_cli_runner().invoke(args=["sessions", "report", "--repo", LARGE, "--since", "90d",
                                                             "--json"])
            return printed.exit_code, json.loads(printed.output)["totals"]["sessions"] if printed.exit_code == 0 else 0

        cells = {"report.build, one repository": timed(lambda: build(LARGE), runs),
                 "report.build, every repository": timed(lambda: build(None), runs),
                 f"GET {path}": timed(page, runs),
                 f"sessions report --repo {LARGE} --since 90d --json": timed(cli, runs),
                 "the periodic job's look for summaries to classify (none pending)":
                     timed(lambda: len(insights.classify_pending(engine)), runs)}
        failures = []
        if cells["report.build, one repository"]["answer"] != per_repository:
            failures.append(f"the report counted {cells['report.build, one repository']['answer']:,} sessions of "
                            f"{LARGE}, not {per_repository:,}")
        if cells[f"GET {path}"]["answer"][0] != 200:
            failures.append(f"GET {path} answered {cells[f'GET {path}']['answer'][0]}")
        cli_answer = cells[f"sessions report --repo {LARGE} --since 90d --json"]["answer"]
        if cli_answer != (0, per_repository):
            failures.append(f"the CLI answered {cli_answer}")
        explained = agents_explain.explain(app, path, headers)
    finally:
        if app is not None:
            runtime_of(app).dispose()
        engine.dispose()
        pg_drop(url)
    for cell in cells.values():
        cell.pop("answer")
    return {"per_repository": per_repository, "seed": seeded, "cells": cells, "explained": explained,
            "failures": failures}


def markdown(result: dict) -> str:
    """The section's text: how it was measured, each way of asking, where the page's time goes."""
    if "skipped" in result:
        return f"Not measured: {result['skipped']}.\n"
    seed_ = result["seed"]
    lines = [HOW, "", f"- {seed_['sessions']:,} sessions ({result['per_repository']:,} in {LARGE}), loaded in "
             f"{seed_['load_s']} s.", "", "| what | p50 ms | p99 ms | runs |", "| --- | ---: | ---: | ---: |"]
    for name, cell in result["cells"].items():
        lines.append(f"| `{name}` | {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} | {cell['runs']} |")
    page = result["explained"]
    lines += ["", f"The page's SQL under EXPLAIN ANALYZE ({len(page['statements'])} statements, "
              f"{page['sql_ms']:.1f} ms of the request's {page['request_ms']:.1f} ms in-process):", "",
              "| ms | how it reads |", "| ---: | --- |"]
    for statement in sorted(page["statements"], key=lambda s: -s["ms"]):
        lines.append(f"| {statement['ms']:.2f} | {statement['reads'] or 'no table'} |")
    return "\n".join(lines) + "\n"


def run(smoke: bool, *, per_repository: int | None = None, runs: int | None = None) -> dict:
    """The report's insights section (bench/report.py)."""
    result = measure(per_repository or PER_REPOSITORY[smoke], runs or RUNS[smoke])
    if "skipped" in result:
        return {"title": TITLE, "markdown": markdown(result), "data": result, "targets": [], "failures": []}
    page = next(cell for name, cell in result["cells"].items() if name.startswith("GET "))
    targets = [{"target": f"`/insights` for a repository with {result['per_repository']:,} sessions: p99 < "
                          f"{TARGET_MS:.0f} ms (in-process)", "figure": f"p99 {page['p99_ms']:.1f} ms (p50 "
                                                                        f"{page['p50_ms']:.1f})",
                "met": page["p99_ms"] < TARGET_MS}]
    return {"title": TITLE, "markdown": markdown(result), "data": result, "targets": targets,
            "failures": result["failures"]}


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench.report import run_alone

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a thousand sessions a repository, 3 runs; no timings")
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    parser.add_argument("--sessions", type=int, help="sessions per repository (default 100000; smoke 1000)")
    parser.add_argument("--runs", type=int, help="timed runs of each (default 30; smoke 3)")
    args = parser.parse_args(argv)
    return run_alone("insights", lambda: run(args.smoke, per_repository=args.sessions, runs=args.runs),
                     smoke=args.smoke, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
