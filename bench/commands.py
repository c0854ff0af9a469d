"""Commands end to end: from a signed `/session stop` or `/session log` delivery to GitHub seeing the result.

    .venv/bin/python -m bench.commands [--smoke] [--out DIR]   # this section alone (`make bench` runs all)

The real bot (gunicorn from the repository root with its gunicorn.conf.py; on PostgreSQL also a
separate `python -m bot.worker`) talks to the fake GitHub (tests/fakegithub) over sockets. Timed
from just before the webhook POST to the moment the request arrives at the fake:

- stop: the `POST …/actions/runs/{id}/cancel` (and, for the record, the reply);
- log:  the reply comment with the summary of a finished session whose run log is 5 MB / 50 MB
        (tests/agentlogs.py, zipped as GitHub serves it, through the fake's 302 to its blob host).

Each idle, and under background intake load: bench/background.py POSTing signed deliveries (plain PR
comments, ordinary CI jobs) at a steady rate to the same bot. Every repetition uses its own pull
request and session, so every `/session log` downloads and summarises (a summary is kept after).
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from dataclasses import dataclass, field

from bench.background import Background
from bench.harness import REPO, SECRET, Stack, percentiles
from bench.servers import pg_required

TITLE = "Commands end to end: `/session stop` and `/session log` through gunicorn and the fake GitHub"
# No status comments: their paced edits would otherwise queue behind or ahead of the command's writes.
CONFIG_FILE = "status_comment: false\n"
LOAD_RATE = {False: 100.0, True: 20.0}  # deliveries per second in the background (full, smoke)
COUNTS = {False: {"stop": 20, "log": {5: 10, 50: 5}}, True: {"stop": 1, "log": {1: 1, 5: 1}}}
STOP_IDLE_MS, STOP_LOAD_MS, LOG_50_MS = 250, 1000, 1500


@dataclass
class Variant:
    key: str
    label: str
    database: str = "sqlite"
    separate_worker: bool = False
    settings: dict = field(default_factory=dict)
    logs: bool = True


def variants(smoke: bool) -> list[Variant]:
    found = [Variant("sqlite", "SQLite, job threads inside the 2 gunicorn workers (the default)")]
    if not smoke:
        found.append(Variant("sqlite-unpaced", "the same with `GITHUB_WRITE_INTERVAL_SECONDS=0.001` (writes not "
                             "paced): the bot's own latency", settings={"GITHUB_WRITE_INTERVAL_SECONDS": "0.001"}))
    found.append(Variant("pg-worker", "PostgreSQL, gunicorn (`BOT_INLINE_WORKERS=0`) + one `python -m bot.worker`",
                         database="pg", separate_worker=True))
    return found


def make_archive(mb: float) -> bytes:
    """A run's log archive holding an agent log of `mb` MiB."""
    from tests.agentlogs import run_logs_zip, write_agent_log

    sink = io.BytesIO()
    write_agent_log(sink, int(mb * 2**20))
    return run_logs_zip(sink.getvalue())


def _is_reply(comment_id: int):
    marker = f"<!-- session-bot:reply {comment_id}:"
    return lambda r: (r.method == "POST" and r.path.endswith("/comments") and "/issues/" in r.path
                      and ((r.json or {}).get("body") or "").startswith(marker))


def _timed(stack: Stack, pr: int, body: str, first, gap: float) -> dict:
    """Comment `body` on `pr`; ms from the delivery to the first request matching `first`, and to the reply."""
    time.sleep(gap)  # the previous command's writes are `gap` old: pacing does not hold this one up
    # A writer of its own per command: COMMAND_RATE_LIMIT allows one person 10 commands a minute.
    login = f"writer-{pr}"
    stack.fake.permissions[(REPO.lower(), login)] = "write"
    made, payload = stack.comment(pr, body, login=login)
    mark = len(stack.fake.requests)
    started = time.time()
    status = stack.deliver("issue_comment", payload)
    acked = time.time()
    if status != 202:
        raise RuntimeError(f"the delivery of {body!r} answered {status}")
    index, _ = stack.wait_request(mark, first)
    reply, _ = stack.wait_request(mark, _is_reply(made["id"]))
    return {"ack_ms": (acked - started) * 1000, "first_ms": (stack.arrivals.at(index) - started) * 1000,
            "reply_ms": (stack.arrivals.at(reply) - started) * 1000}


def stop_once(stack: Stack, pr: int, run_id: int, gap: float) -> dict:
    cancel = f"/repos/{REPO}/actions/runs/{run_id}/cancel"
    return _timed(stack, pr, "/session stop", lambda r: r.method == "POST" and r.path == cancel, gap)


def log_once(stack: Stack, pr: int, run_id: int, gap: float) -> dict:
    logs = f"/repos/{REPO}/actions/runs/{run_id}/logs"
    return _timed(stack, pr, "/session log", lambda r: r.method == "GET" and r.path == logs, gap)


def measure(variant: Variant, smoke: bool) -> dict:
    """Every measurement of one variant: {measure: {phase: [rep figures]}}, the load, notes."""
    counts = COUNTS[smoke]
    sizes = list(counts["log"]) if variant.logs else []
    settings = {"STOP_GRACE_SECONDS": 3600, **variant.settings}
    if smoke:  # quicker, and smoke figures mean nothing anyway
        settings.update(TIMELINE_COALESCE_SECONDS=0.3, GITHUB_WRITE_INTERVAL_SECONDS=0.001)
    # Commands on one installation seconds apart are rare: let the write bucket refill (a burst of 3)
    # so each measures an idle installation's path.
    gap = 3 * float(settings.get("GITHUB_WRITE_INTERVAL_SECONDS", 1.0)) + 0.25
    archives = {mb: make_archive(mb) for mb in sizes}
    warm_archive = make_archive(0.2)
    with Stack(database=variant.database, separate_worker=variant.separate_worker, config_file=CONFIG_FILE,
               **settings) as stack:
        numbers = iter(range(100, 100_000))
        plan: dict[str, dict[str, list[tuple[int, int]]]] = {}
        setup = []

        def sessions(measure_key: str, phase: str, n: int, archive: bytes | None) -> None:
            for _ in range(n):
                pr = next(numbers)
                setup.extend(stack.session(pr, 50_000 + pr, finished=archive is not None, archive=archive))
                plan.setdefault(measure_key, {}).setdefault(phase, []).append((pr, 50_000 + pr))

        warm_runs = 1 if smoke else 2
        sessions("warm-stop", "idle", warm_runs, None)
        sessions("warm-log", "idle", warm_runs, warm_archive)
        for phase in ("idle", "load"):
            sessions("stop", phase, counts["stop"], None)
            for mb in sizes:
                sessions(f"log-{mb:g}", phase, counts["log"][mb], archives[mb])
        stack.set_up(setup)
        # Warm both processes: installation token, permission and config caches, imports.
        for pr, run_id in plan["warm-stop"]["idle"]:
            stop_once(stack, pr, run_id, gap)
        for pr, run_id in plan["warm-log"]["idle"]:
            log_once(stack, pr, run_id, gap)
        results: dict[str, dict[str, list[dict]]] = {}
        load_info = {}
        for phase in ("idle", "load"):
            load = Background(stack.webhook_url, stack.background_bodies(), SECRET, LOAD_RATE[smoke]) \
                if phase == "load" else contextlib.nullcontext()
            with load:
                if phase == "load":
                    time.sleep(2)  # let the queue reach its steady state
                for pr, run_id in plan["stop"][phase]:
                    results.setdefault("stop", {}).setdefault(phase, []).append(stop_once(stack, pr, run_id, gap))
                for mb in sizes:
                    for pr, run_id in plan[f"log-{mb:g}"][phase]:
                        results.setdefault(f"log-{mb:g}", {}).setdefault(phase, []).append(
                            log_once(stack, pr, run_id, gap))
                if phase == "load":
                    load_info["delivery_jobs_queued_at_end"] = stack.pending(include=("delivery",))
            if phase == "load":
                load_info.update(load.result)
        method = stack.arrivals.method
    return {"variant": variant.__dict__, "results": results, "load": load_info, "arrival_stamps": method,
            "archive_bytes": {f"{mb:g}": len(a) for mb, a in archives.items()}}


def summarise(measured: dict) -> list[dict]:
    rows = []
    for key, phases in measured["results"].items():
        for phase, reps in phases.items():
            row = {"measure": key, "phase": phase}
            first = "cancel" if key == "stop" else "log_get"
            row[first] = percentiles([r["first_ms"] for r in reps])
            row["reply"] = percentiles([r["reply_ms"] for r in reps])
            row["ack"] = percentiles([r["ack_ms"] for r in reps])
            rows.append(row)
    return rows


def targets(key: str, rows: list[dict]) -> list[dict]:
    by = {(r["measure"], r["phase"]): r for r in rows}
    found = []
    for phase, limit in (("idle", STOP_IDLE_MS), ("load", STOP_LOAD_MS)):
        row = by.get(("stop", phase))
        if row:
            p99 = row["cancel"]["p99"]
            found.append({"target": f"{key}: stop → cancel at GitHub, p99 < {limit} ms ({phase})",
                          "figure": f"p99 {p99:.0f} ms (p50 {row['cancel']['p50']:.0f}, n={row['cancel']['n']})",
                          "met": p99 < limit})
    row = by.get(("log-50", "idle"))
    if row:
        p99 = row["reply"]["p99"]
        found.append({"target": f"{key}: `/session log` of a 50 MB log replied < {LOG_50_MS} ms (idle, p99)",
                      "figure": f"p99 {p99:.0f} ms (p50 {row['reply']['p50']:.0f}, n={row['reply']['n']})",
                      "met": p99 < LOG_50_MS})
    return found


def render(data: dict, smoke: bool) -> str:
    counts = COUNTS[smoke]
    lines = [
        "From just before the signed `issue_comment` webhook is POSTed to the moment the request arrives at "
        f"the fake GitHub (its arrival time: {data['arrival_stamps']}). stop: the cancel "
        "(`POST …/actions/runs/{id}/cancel`), then the reply; log: the run-log download starts "
        "(`GET …/runs/{id}/logs`, a 302 to the blob host), then the reply with the summary is posted. "
        f"n = {counts['stop']} stops and {', '.join(f'{n} × {mb:g} MB' for mb, n in counts['log'].items())} logs "
        f"per phase, each on its own pull request and session and by a different person with write access "
        "(one person may give 10 commands a minute), so every stop reads that person's permission. One or two of "
        "each first, unrecorded, to warm the processes (installation token, config cache). Background load: "
        f"{LOAD_RATE[smoke]:g} signed deliveries/s (plain PR comments and CI `workflow_job`s, one connection "
        "each) from a separate process. Repository config `status_comment: false`, so no status-comment edit "
        "competes for the write pacing; `STOP_GRACE_SECONDS=3600`, so no grace check runs meanwhile. "
        "Bot logs at `info` (the default; gunicorn announces its port there). The fake GitHub checks every "
        "request against GitHub's OpenAPI description before answering, which adds its own time to every "
        "call before the measured one.", ""]
    for key, measured in data["variants"].items():
        if "error" in measured:
            lines += [f"### {key}", "", f"Not measured: {measured['error']}", ""]
            continue
        load = measured["load"]
        lines += [f"### {key}: {measured['variant']['label']}", "",
                  "| measure | phase | n | first request p50 / p99 / max ms | reply p50 / p99 / max ms | ack p50 ms |",
                  "| --- | --- | ---: | ---: | ---: | ---: |"]
        for row in measured["rows"]:
            first = row.get("cancel") or row.get("log_get")
            what = "cancel" if "cancel" in row else "log GET"
            lines.append(f"| {row['measure']} | {row['phase']} | {first['n']} | {what}: {first['p50']:.0f} / "
                         f"{first['p99']:.0f} / {first['max']:.0f} | {row['reply']['p50']:.0f} / "
                         f"{row['reply']['p99']:.0f} / {row['reply']['max']:.0f} | {row['ack']['p50']:.1f} |")
        lines += ["", f"Load: {load.get('rate_sent', '?')} deliveries/s sent (target {load.get('rate_target', '?')}), "
                  f"{load.get('ok', '?')} acknowledged, {load.get('non_2xx', '?')} non-2xx, {load.get('errors', '?')} "
                  f"errors, ack p50 {load.get('ack_p50_ms', '?')} ms / p99 {load.get('ack_p99_ms', '?')} ms; "
                  f"`delivery` jobs still queued when the load phase ended: "
                  f"{load.get('delivery_jobs_queued_at_end', '?')}.", ""]
    if smoke:
        lines += ["Smoke: `GITHUB_WRITE_INTERVAL_SECONDS=0.001` and `TIMELINE_COALESCE_SECONDS=0.3` in every "
                  "variant, to be quick.", ""]
    lines += ["Reading it: with the default `GITHUB_WRITE_INTERVAL_SECONDS=1`, one installation's writes from one "
              "process average one a second after a burst of 3 (GitHub's secondary-rate-limit guidance), so one "
              "command's 👀 reaction, cancel and reply go at once, while commands that follow each other within "
              "seconds wait for the bucket to refill; the `sqlite-unpaced` rows show the path without any pacing."]
    return "\n".join(lines) + "\n"


def run(smoke: bool) -> dict:
    data = {"variants": {}, "arrival_stamps": "?"}
    failures, found_targets = [], []
    for variant in variants(smoke):
        print(f"commands: {variant.key}", flush=True)
        try:
            measured = measure(variant, smoke)
        except Exception as exc:  # noqa: BLE001 -- e.g. no PostgreSQL: recorded, the rest still runs
            if variant.database == "pg" and "unavailable" in str(exc) and not pg_required():
                data["variants"][variant.key] = {"error": str(exc)}
                continue
            raise
        measured["rows"] = summarise(measured)
        data["variants"][variant.key] = measured
        data["arrival_stamps"] = measured["arrival_stamps"]
        found_targets += targets(variant.key, measured["rows"])
        for row in measured["rows"]:
            first = row.get("cancel") or row["log_get"]
            print(f"  {row['measure']:<8} {row['phase']:<5} first p50 {first['p50']:>7} ms"
                  f"  reply p50 {row['reply']['p50']:>7} ms  p99 {row['reply']['p99']:>7} ms", flush=True)
    return {"title": TITLE, "markdown": render(data, smoke), "data": data, "targets": found_targets,
            "failures": failures}


def main(argv: list[str] | None = None) -> int:
    from bench import report

    return report.section_main("commands", run, __doc__, "tiny counts; asserts no timings", argv)


if __name__ == "__main__":
    sys.exit(main())
