"""Session-index query times on PostgreSQL at 10^4, 10^5 and 10^6 sessions (p50 / p99).

    .venv/bin/python bench/index_queries.py [--sizes 10000,100000,1000000] [--runs 300]

`make bench` runs it as the report's index section (`run(smoke)`: 10^3 and 10^4 sessions in smoke).

Creates a database of its own (sb_bench_<random>) on the server in $BENCH_POSTGRES_URL (default
the local one the tests use), migrates it, bulk-loads sessions with generate_series, times the
index's real queries (bot.sessions.store) with random parameters, and drops the database.

The data: ~100 sessions per repository, 3 per pull request, 10 repositories per installation,
except one installation that holds a tenth of every session (the large customer).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bot import db  # noqa: E402
from bot.sessions import model, queries as index_queries  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASE_TIME = 1_700_000_000.0
# The states sessions cycle through (a quarter running: the index's queries by state find some everywhere).
STATE_MIX = ("completed", "completed", "completed", "failed", "cancelled", "in_progress", "queued", "timed_out")

LOAD = text("""
    INSERT INTO sessions (repository_id, run_id, installation_id, repository, pr_number, number, state, status,
                          conclusion, run_attempt, run_updated_at, created_at, started_at, finished_at, head_branch,
                          html_url, actor, triggering_actor, starter, starter_source, timeline_outcome, backfilled,
                          indexed_at, updated_at)
    SELECT r, i, CASE WHEN r % 10 = 0 THEN 0 ELSE 1 + r % :installations END, 'org/repo-' || r,
           (i / :repos) / 3 + 1, (i / :repos) % 3 + 1, s, CASE WHEN s IN ('queued', 'in_progress') THEN s ELSE 'completed' END,
           NULL, 1, :base + i * 10 + 300, :base + i * 10, :base + i * 10 + 5,
           CASE WHEN s IN ('queued', 'in_progress') THEN NULL ELSE :base + i * 10 + 300 END,
           'copilot/task-' || (i / :repos / 3),
           'https://github.com/org/repo/actions/runs/' || i, 'Copilot', 'Copilot', 'user-' || (i % 997),
           'timeline', NULL, false, :base, :base
    FROM (SELECT i, i % :repos AS r,
                 (CAST(:states AS text[]))[1 + (i * 7 + i / 13) % cardinality(CAST(:states AS text[]))] AS s
          FROM generate_series(0, :n - 1) AS i) AS g
""")


def shape(n: int) -> dict[str, int]:
    repos = max(10, n // 100)
    return {"n": n, "repos": repos, "installations": max(1, repos // 10)}


def load(engine, n: int, *, repos: int | None = None, installations: int | None = None,
         states: Sequence[str] = STATE_MIX) -> float:
    """Empty the table and load n sessions (spread over `repos` repositories in `installations`
    installations, by default as `shape(n)` says; their states cycling through `states`); returns
    seconds taken. bench/agents_seed.py loads the Agents page's index with it too."""
    layout = shape(n)
    layout.update({k: v for k, v in (("repos", repos), ("installations", installations)) if v is not None})
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE sessions"))
        conn.execute(LOAD, {**layout, "base": BASE_TIME, "states": list(states)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sessions"))
    return time.perf_counter() - started


def queries(n: int, rng: random.Random) -> dict[str, callable]:
    """Each benchmarked query as a function of a connection, drawing random parameters."""
    s = shape(n)

    def pr(conn):
        repo = rng.randrange(s["repos"])
        prs = max(1, (n // s["repos"]) // 3)
        return index_queries.sessions_of_pull(conn, repo, rng.randrange(prs) + 1)

    def typical(conn, **filters):
        return index_queries.list_sessions(conn, installation_id=1 + rng.randrange(s["installations"]), **filters)

    def page_two(conn, installation_id):
        first = index_queries.list_sessions(conn, installation_id=installation_id)
        return index_queries.list_sessions(conn, installation_id=installation_id, cursor=first.cursor)

    return {
        "sessions of one PR": pr,
        "newest page, typical installation": lambda conn: typical(conn),
        "newest page, largest installation": lambda conn: index_queries.list_sessions(conn, installation_id=0),
        "page 1 + page 2 (keyset), largest": lambda conn: page_two(conn, 0),
        "newest page by state, largest": lambda conn: index_queries.list_sessions(
            conn, installation_id=0, state=rng.choice(model.STATES)),
        "newest page by user, largest": lambda conn: index_queries.list_sessions(
            conn, installation_id=0, starter=f"user-{rng.randrange(997)}"),
    }


def measure(engine, query, runs: int) -> tuple[float, float]:
    """(p50, p99) in milliseconds, after a few warm-up runs."""
    timings = []
    with engine.connect() as conn:
        for n in range(runs + 20):
            started = time.perf_counter()
            query(conn)
            if n >= 20:
                timings.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[98]


TITLE = "Index: session queries on PostgreSQL at growing sizes"
SIZES = {False: [10_000, 100_000, 1_000_000], True: [1_000, 10_000]}
RUNS = {False: 300, True: 30}


def measure_sizes(sizes: list[int], runs: int, server: str = SERVER) -> list[dict]:
    """Load each size in a database of its own and time every query: one row per (size, query)."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"sb_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = db.make_engine(server.rsplit("/", 1)[0] + f"/{name}")
    rows = []
    try:
        db.upgrade(engine)
        rng = random.Random(4)
        for n in sizes:
            seconds = load(engine, n)
            rows.append({"sessions": n, "query": "(bulk load + VACUUM ANALYZE)", "load_ms": round(seconds * 1000)})
            print(f"{n:>9}  {'(bulk load + VACUUM ANALYZE)':<36} {rows[-1]['load_ms']:>8}", flush=True)
            for label, query in queries(n, rng).items():
                p50, p99 = measure(engine, query, runs)
                rows.append({"sessions": n, "query": label, "p50_ms": round(p50, 3), "p99_ms": round(p99, 3)})
                print(f"{n:>9}  {label:<36} {p50:>8.3f} {p99:>8.3f}", flush=True)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return rows


def run(smoke: bool) -> dict:
    """The report's index section (bench/report.py)."""
    sizes, runs = SIZES[smoke], RUNS[smoke]
    from bench.servers import pg_create, pg_drop, pg_required

    probe, why = pg_create("sb_bench_probe_")  # is there a PostgreSQL to measure on?
    if probe is None:
        if pg_required():
            raise RuntimeError(why)
        return {"title": TITLE, "markdown": f"Not measured: {why}.\n", "data": {"skipped": why}, "targets": [],
                "failures": []}
    pg_drop(probe)
    rows = measure_sizes(sizes, runs)
    columns = [f"{n:,} sessions p50 / p99 ms" for n in sizes]
    lines = [f"The index's real queries (`bot.sessions.store`) with random parameters, {runs} timed runs each after "
             "20 warm-up runs, on a PostgreSQL database of the run's own, bulk-loaded with `generate_series` "
             "(~100 sessions per repository, 3 per pull request, 10 repositories per installation, one installation "
             "holding a tenth of all sessions: the large customer).", "",
             "| query | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(sizes)]
    by = {(r["sessions"], r["query"]): r for r in rows}
    for label in dict.fromkeys(r["query"] for r in rows):
        cells = []
        for n in sizes:
            r = by.get((n, label), {})
            cells.append(f"{r['load_ms']} ms" if "load_ms" in r
                         else f"{r.get('p50_ms', 0):.2f} / {r.get('p99_ms', 0):.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return {"title": TITLE, "markdown": "\n".join(lines) + "\n", "data": {"sizes": sizes, "runs": runs, "rows": rows},
            "targets": [], "failures": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per query and size")
    parser.add_argument("--server", default=SERVER, help="a PostgreSQL URL with rights to CREATE DATABASE")
    args = parser.parse_args()
    print(f"{'sessions':>9}  {'query':<36} {'p50 ms':>8} {'p99 ms':>8}")
    measure_sizes([int(size) for size in args.sizes.split(",")], args.runs, args.server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
