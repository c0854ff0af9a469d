"""Where an Agents page's time goes: the SQL one request runs, each statement under EXPLAIN (ANALYZE, BUFFERS).

The request is made in this process (Flask's test client on the bot's own app, on the same database
as the served bot), with a listener recording every statement the engine sends; each read is then
run again under EXPLAIN ANALYZE with the same parameters. Nothing here knows which queries the page
runs: a change to bot/sessions/queries.py shows up as it is.
"""

from __future__ import annotations

import json
import statistics
import time

from sqlalchemy import event

SHOWN = 3  # slowest statements named per page in the report
TIMED = 5  # in-process requests timed per page (their median is reported)


def explain(app, path: str, headers: dict[str, str]) -> dict:
    """`path` requested in-process: the median time of TIMED requests, the status, and each SELECT one of them
    ran, with its plan and execution time."""
    from bot.app import runtime_of

    engine = runtime_of(app).engine
    captured: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    client, headers = app.test_client(), dict(headers)
    if "Cookie" in headers:  # Werkzeug's client sends the cookies it holds, not a Cookie header
        name, _, value = headers.pop("Cookie").partition("=")
        client.set_cookie(name, value)
    client.get(path, headers=headers)  # warm: the connection pool, the templates
    timings = []
    for _ in range(TIMED):
        started = time.perf_counter()
        client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
    event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(path, headers=headers).status_code
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statements = []
    with engine.connect() as conn:
        for statement, parameters in captured:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue  # a write (a browser session's last-seen touch): not explained, never run twice
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar()
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            text = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
            statements.append({"ms": round(plan["Execution Time"], 3), "planning_ms": round(plan["Planning Time"], 3),
                               "reads": reads(plan["Plan"]), "sql": " ".join(statement.split()),
                               "parameters": repr(parameters), "plan": text})
        conn.rollback()
    return {"path": path, "status": status, "request_ms": round(statistics.median(timings), 1),
            "statements": statements, "sql_ms": round(sum(s["ms"] for s in statements), 3)}


def reads(node: dict) -> str:
    """How a plan reads its tables: "sessions by ix_sessions_newest (51 rows); pull_requests by …"."""
    found: dict[str, int] = {}

    def walk(node: dict) -> None:
        if "Relation Name" in node:
            how = node.get("Index Name") or node["Node Type"].lower()
            key = f"{node['Relation Name']} by {how}" if "Index Name" in node else f"{node['Relation Name']} ({how})"
            found[key] = found.get(key, 0) + int(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))
        for child in node.get("Plans", []):
            walk(child)

    walk(node)
    return "; ".join(f"{key} ({rows:,} rows)" for key, rows in found.items())


def markdown(explained: dict[int, dict[str, dict]]) -> str:
    """Per size and page (`explain`'s answers, each with the `viewer` it was asked as): the request's time in
    process, its SQL's, and the slowest statements."""
    lines = ["Where the time goes: each page requested once more in-process, its SQL captured and run again "
             "under EXPLAIN (ANALYZE, BUFFERS) (the plans are in latest.json).", "",
             "| sessions | page | as | request ms (in-process, median of 5) | SQL ms (statements) | "
             "slowest statements: ms, how they read |",
             "| ---: | --- | --- | ---: | ---: | --- |"]
    for n, pages in explained.items():
        for page in pages.values():
            slowest = sorted(page["statements"], key=lambda s: -s["ms"])[:SHOWN]
            named = "<br>".join(f"{s['ms']:.2f}: {s['reads'] or 'no table'}" for s in slowest)
            lines.append(f"| {n:,} | `{page['path']}` | {page['viewer']} | {page['request_ms']:.1f} | "
                         f"{page['sql_ms']:.2f} ({len(page['statements'])}) | {named} |")
    return "\n".join(lines)
