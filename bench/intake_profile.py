"""Where a webhook acknowledgement's time goes, measured in-process (no sockets, no gunicorn).

    .venv/bin/python -m bench.intake_profile [--database sqlite|pg|both] [-n 2000] [--cprofile]

Builds the bot's WSGI app as gunicorn would (settings from a throwaway environment, one process,
inline workers off) and calls it with a signed ~13 KB `issue_comment.created` delivery, a new
delivery id each time. Reports the mean wall time per acknowledgement of the whole WSGI callable,
then of each step of the path timed alone, then of a bare DB-API transaction doing the same two
INSERTs (the lower bound of the storage step). Prints a markdown section; `bench.intake` appends it
to the results.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-profile"


def _environ(body: bytes, signature: str, guid: str, path: str) -> dict:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body),
        "HTTP_X_GITHUB_EVENT": "issue_comment", "HTTP_X_GITHUB_DELIVERY": guid,
        "HTTP_X_HUB_SIGNATURE_256": signature, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }


def _per_call_us(function, n: int) -> float:
    for _ in range(min(200, n)):
        function()
    start = time.perf_counter()
    for _ in range(n):
        function()
    return (time.perf_counter() - start) / n * 1e6


def profile(database_url: str, n: int, key: str, *, use_cprofile: bool = False) -> dict:
    from bot.app import create_app, runtime_of
    from bot.config import load_settings
    from bot.webhooks import verify_signature
    from tests.fakegithub.payloads import example, sign, with_installation

    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="sb-bench-prom-"))
    settings = load_settings({"APP_ID": "1234", "PRIVATE_KEY": key, "WEBHOOK_SECRET": SECRET,
                              "GITHUB_API_URL": "http://127.0.0.1:9", "DATABASE_URL": database_url,
                              "BOT_INLINE_WORKERS": "0", "LOG_LEVEL": "warning"}, dotenv=None)
    app = create_app(settings)
    runtime = runtime_of(app)
    intake = app.wsgi_app
    body = json.dumps(with_installation(example("issue_comment", "created"), 4242001)).encode()
    signature = sign(body, SECRET)
    path = settings.webhook_path
    tag = secrets.token_hex(4)
    counter = iter(range(10**9))

    def start_response(status, headers):
        assert status.startswith("202"), status

    def whole():
        intake(_environ(body, signature, f"p{tag}-{next(counter)}", path), start_response)

    def duplicate():
        intake(_environ(body, signature, f"p{tag}-dup", path), start_response)

    def store_only():
        intake.outbox.store(f"s{tag}-{next(counter)}", "issue_comment", "created", 4242001, body)

    figures = {"database": database_url.split(":")[0], "n": n, "body_bytes": len(body)}
    figures["whole_wsgi_call_us"] = _per_call_us(whole, n)
    figures["duplicate_wsgi_call_us"] = _per_call_us(duplicate, n)
    figures["store_and_enqueue_us"] = _per_call_us(store_only, n)
    secrets_ = settings.webhook_secrets
    figures["verify_signature_us"] = _per_call_us(lambda: verify_signature(body, signature, secrets_), n)
    figures["json_loads_us"] = _per_call_us(lambda: json.loads(body), n)
    from bot import metrics
    figures["metrics_counter_inc_us"] = _per_call_us(lambda: metrics.ACKS.labels("202").inc(), n)
    logger = logging.getLogger("bot.webhooks")
    figures["log_info_suppressed_us"] = _per_call_us(
        lambda: logger.info("accepted delivery %s (%s%s)", "x", "issue_comment", ".created"), n)
    figures["queue_wake_us"] = _per_call_us(runtime.queue.wake, n)
    engine = runtime.engine

    def empty_transaction():
        with engine.begin():
            pass

    figures["empty_engine_begin_commit_us"] = _per_call_us(empty_transaction, n)
    figures["prebuilt_core_store_us"] = _per_call_us(_prebuilt_core(engine, body, tag), n)
    figures["raw_dbapi_store_us"] = _raw_dbapi(database_url, body, n)

    if use_cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            whole()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        figures["cprofile"] = out.getvalue()
    runtime.dispose()
    return figures


def _prebuilt_core(engine, body: bytes, tag: str):
    """The same transaction with both statements built once, the values passed as execute parameters."""
    from sqlalchemy import insert, text

    from bot.db import deliveries, dialect_insert, is_sqlite, jobs

    with engine.connect() as conn:
        add_delivery = dialect_insert(conn, deliveries).on_conflict_do_nothing(
            index_elements=["guid"]).returning(deliveries.c.id)
    add_job = insert(jobs).returning(jobs.c.id)
    notify = None if is_sqlite(engine) else text("SELECT pg_notify('session_bot_jobs', '')")
    counter = iter(range(10**9))

    def store():
        now = time.time()
        with engine.begin() as conn:
            delivery_id = conn.execute(add_delivery, dict(
                guid=f"c{tag}-{next(counter)}", event="issue_comment", action="created", installation_id=4242001,
                received_at=now, body=body, outcome="queued")).scalar_one_or_none()
            conn.execute(add_job, dict(kind="delivery", args="{}", delivery_id=delivery_id, state="queued",
                                       attempts=0, run_at=now, dedupe_key=None, created_at=now))
            if notify is not None:
                conn.execute(notify)

    return store


def _raw_dbapi(database_url: str, body: bytes, n: int) -> float:
    """The same two INSERTs in one transaction on a bare DB-API connection: the storage floor."""
    tag = secrets.token_hex(4)
    counter = iter(range(10**9))
    if database_url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")

        def store():
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            delivery_id = conn.execute(
                "INSERT INTO deliveries (guid, event, action, installation_id, received_at, body, outcome) "
                "VALUES (?, 'issue_comment', 'created', 4242001, ?, ?, 'queued') ON CONFLICT (guid) DO NOTHING "
                "RETURNING id", (f"r{tag}-{next(counter)}", now, body)).fetchone()[0]
            conn.execute("INSERT INTO jobs (kind, args, delivery_id, state, attempts, run_at, created_at) "
                         "VALUES ('delivery', '{}', ?, 'queued', 0, ?, ?)", (delivery_id, now, now))
            conn.execute("COMMIT")
    else:
        import psycopg

        conn = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"))

        def store():
            now = time.time()
            with conn.transaction():
                delivery_id = conn.execute(
                    "INSERT INTO deliveries (guid, event, action, installation_id, received_at, body, outcome) "
                    "VALUES (%s, 'issue_comment', 'created', 4242001, %s, %s, 'queued') "
                    "ON CONFLICT (guid) DO NOTHING RETURNING id", (f"r{tag}-{next(counter)}", now, body),
                    prepare=True).fetchone()[0]
                conn.execute("INSERT INTO jobs (kind, args, delivery_id, state, attempts, run_at, created_at) "
                             "VALUES ('delivery', '{}', %s, 'queued', 0, %s, %s)", (delivery_id, now, now),
                             prepare=True)
                conn.execute("SELECT pg_notify('session_bot_jobs', '')", prepare=True)
    try:
        return _per_call_us(store, n)
    finally:
        conn.close()


ROWS = [
    ("whole_wsgi_call_us", "the intake's WSGI callable, end to end (new delivery)"),
    ("duplicate_wsgi_call_us", "the same, a delivery id already stored (dedupe path)"),
    ("store_and_enqueue_us", "`Intake._store`: delivery + job in one transaction (SQLAlchemy Core)"),
    ("prebuilt_core_store_us", "`_store` with both statements built once, values passed as execute parameters"),
    ("raw_dbapi_store_us", "`_store` as two INSERTs (+ pg_notify on PostgreSQL) on a bare DB-API connection"),
    ("empty_engine_begin_commit_us", "`engine.begin()` with nothing in it (pool checkout, BEGIN, COMMIT)"),
    ("verify_signature_us", "HMAC-SHA256 check of the body"),
    ("json_loads_us", "`json.loads` of the body"),
    ("metrics_counter_inc_us", "prometheus multiprocess counter `.labels().inc()`"),
    ("log_info_suppressed_us", "`log.info` below the level (LOG_LEVEL=warning)"),
    ("queue_wake_us", "`queue.wake()`"),
]


def render(results: list[dict]) -> str:
    lines = ["### Where the bot's time goes per acknowledgement (in-process, one process, no sockets)", "",
             "Mean wall-clock µs per call, " + ", ".join(f"{r['database']} n={r['n']}" for r in results)
             + ". Not included: what every gunicorn sync server pays per request (accept, parse, write, close), "
             "which is most of the floor's cost. Steps timed alone overlap the end-to-end figure.", "",
             "| step | " + " | ".join(r["database"] for r in results) + " |",
             "| --- | " + " | ".join("---:" for _ in results) + " |"]
    for key, label in ROWS:
        lines.append(f"| {label} | " + " | ".join(f"{r[key]:.0f}" for r in results) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--json-last", action="store_true", help="end with one PROFILE_JSON line (for bench.intake)")
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions")
    args = parser.parse_args(argv)
    from bench.servers import make_private_key, pg_create, pg_drop

    key = make_private_key()
    results = []
    with tempfile.TemporaryDirectory(prefix="sb-bench-profile-") as tmp:
        if args.database in ("sqlite", "both"):
            results.append(profile(f"sqlite:///{tmp}/profile.sqlite3", args.n, key, use_cprofile=args.cprofile))
        if args.database in ("pg", "both"):
            url, why = pg_create()
            if url is None:
                print(f"PostgreSQL skipped: {why}", file=sys.stderr)
            else:
                try:
                    results.append(profile(url, args.n, key, use_cprofile=args.cprofile))
                finally:
                    pg_drop(url)
    for r in results:
        if "cprofile" in r:
            print(f"### cProfile, {r['database']}\n```\n{r.pop('cprofile')}\n```")
    print(render(results))
    if args.json_last:
        print("PROFILE_JSON " + json.dumps(results))
    else:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
