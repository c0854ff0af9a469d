"""What came of a bench/mixed.py run: the answers, nothing lost or done twice, GitHub's calls, the
processes' logs; and the Markdown bench/load.py and bench/soak.py both report them in."""

from __future__ import annotations

import re
import time
from collections import Counter

from bench.mixed import UNFINISHED, Stack


def acknowledgements(results: list[tuple], elapsed: float) -> dict:
    """Count, non-2xx (with the first few), rate and latency of the answers."""
    latencies = sorted(r[4] for r in results)
    bad = [r for r in results if not 200 <= r[2] < 300]
    return {
        "count": len(results),
        "non_2xx": len(bad),
        "non_2xx_examples": [f"{r[1]} {r[0]}: {r[2] or r[5]}" for r in bad[:10]],
        "by_status": dict(Counter(str(r[2]) for r in results)),
        "seconds": round(elapsed, 2),
        "rate_per_s": round(len(results) / elapsed, 1) if elapsed else None,
        "p50_ms": _ms(_quantile(latencies, 0.50)),
        "p99_ms": _ms(_quantile(latencies, 0.99)),
        "max_ms": _ms(latencies[-1] if latencies else None),
    }


def lost(stack: Stack, results: list[tuple]) -> dict:
    """Every 2xx delivery (but pings) stored exactly once, acknowledged as new exactly once, and
    its job `done`; plus every job's final state, dead jobs with their errors and stuck ones."""
    stored = Counter(g for (g,) in stack.sql("SELECT guid FROM deliveries WHERE guid LIKE 'load-%'"))
    delivery_jobs = {g: (state, attempts, error) for g, state, attempts, error in stack.sql(
        "SELECT d.guid, j.state, j.attempts, j.last_error FROM jobs j JOIN deliveries d ON d.id = j.delivery_id"
        " WHERE j.kind = 'delivery' AND d.guid LIKE 'load-%'")}
    acked = {r[0] for r in results if 200 <= r[2] < 300 and r[1] != "ping"}
    answered_new = Counter(r[0] for r in results if r[2] == 202 and not r[3])
    not_stored = sorted(acked - set(stored))
    jobs = stack.sql("SELECT kind, state, count(*), max(attempts) FROM jobs GROUP BY kind, state ORDER BY 1, 2")
    return {
        "acknowledged": len(acked),
        "stored": sum(stored.values()),
        "lost": len(not_stored),
        "lost_examples": not_stored[:10],
        "stored_twice": sorted(g for g, c in stored.items() if c > 1)[:10],
        "new_not_once": sorted(g for g in acked if answered_new[g] != 1)[:10],
        "stored_unacknowledged": len(set(stored) - acked),
        "delivery_jobs_not_done": sorted(f"{g}: {s[0]} after {s[1]} attempt(s): {s[2]}"
                                         for g, s in delivery_jobs.items() if s[0] != "done")[:20],
        "deliveries_without_job": sorted(set(stored) - set(delivery_jobs))[:10],
        "outcomes": dict(stack.sql("SELECT outcome, count(*) FROM deliveries GROUP BY outcome")),
        "jobs": [f"{kind} {state}: {count} (attempts ≤ {most})" for kind, state, count, most in jobs],
        "dead": [f"job {i} ({kind}, {attempts} attempts): {error}" for i, kind, attempts, error in stack.sql(
            "SELECT id, kind, attempts, last_error FROM jobs WHERE state = 'dead' ORDER BY id LIMIT 20")],
        "stuck": [f"job {i} ({kind}) {state}, attempts {attempts}, due in {due:.0f} s: {error}"
                  for i, kind, state, attempts, due, error in stack.sql(
                      "SELECT id, kind, state, attempts, run_at - :now, last_error FROM jobs"
                      f" WHERE {UNFINISHED} ORDER BY id LIMIT 20", {"now": time.time()})],
        "retried_jobs": dict(stack.sql("SELECT kind, count(*) FROM jobs WHERE attempts > 1 GROUP BY kind")),
    }


def github(stack: Stack, since: int, remaining_before: int) -> dict:
    """The calls jobs made to the fake GitHub after request number `since`, and its problems."""
    calls = stack.fake.calls()[since:]
    by_route = Counter(f"{c.method} {c.template or c.path} → {c.status}" for c in calls)
    return {
        "calls": len(calls),
        "by_route": dict(by_route.most_common()),
        "rate_limit_used": remaining_before - stack.fake.rate_limit_remaining,
        "rate_limit_left": stack.fake.rate_limit_remaining,
        "problems": stack.fake.problems()[:20],
        "problem_count": len(stack.fake.problems()),
    }


def process_logs(stack: Stack) -> dict:
    """Warning and error lines the bot's processes printed, counted by message (numbers as N)."""
    found = {}
    for name, process in [("web", stack.web), *((f"bot.worker {n + 1}", w) for n, w in enumerate(stack.workers))]:
        lines = [line for line in process.output if "ERROR" in line or "Traceback" in line or "WARNING" in line]
        # Text format: "<date> <time> <LEVEL> <logger>: <message>".
        messages = Counter(re.sub(r"\d+", "N", line.split(" ", 2)[-1]) for line in lines)
        found[name] = {"lines": len(lines), "messages": dict(messages.most_common(10)), "first": lines[:5],
                       "exited": process.proc.poll()}
    return found


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _quantile(values: list[float], q: float) -> float | None:
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None


def check_markdown(result: dict) -> list[str]:
    """Markdown lines for the checks both benchmarks report (lost, jobs, GitHub, logs)."""
    lost_, gh = result["lost"], result["github"]
    lines = [
        f"- Lost: **{lost_['lost']}** of {lost_['acknowledged']} acknowledged deliveries (pings excluded: not stored); "
        f"stored {lost_['stored']}; delivery jobs not `done`: {len(lost_['delivery_jobs_not_done'])}; "
        f"dead jobs: {len(lost_['dead'])}; stuck: {len(lost_['stuck'])}.",
        f"- Drained {_s(result['drain_s'])} after the last answer (timeline and status-comment jobs wait for the "
        "end of their coalescing window, 5 s and 10 s).",
        f"- Jobs: {'; '.join(lost_['jobs'])}. Retried: {lost_['retried_jobs'] or 'none'}.",
        f"- GitHub: {gh['calls']} calls, {gh['rate_limit_used']} counted against the rate limit "
        f"({gh['rate_limit_left']} left); problems (requests GitHub would refuse): {gh['problem_count']}. "
        "By route: " + "; ".join(f"`{route}` {n}" for route, n in gh["by_route"].items()) + ".",
    ]
    if lost_["stored_unacknowledged"]:
        lines.append(f"- Stored without a 2xx reaching the sender: {lost_['stored_unacknowledged']}.")
    for name in ("lost_examples", "stored_twice", "new_not_once", "delivery_jobs_not_done", "deliveries_without_job",
                 "dead", "stuck"):
        if lost_[name]:
            lines.append(f"- **{name}**: " + "; ".join(map(str, lost_[name][:5])))
    lines += [f"- **problem**: {p}" for p in gh["problems"][:5]]
    for name, log in result["logs"].items():
        if log["lines"] or log["exited"] is not None:
            lines.append(f"- {name} printed {log['lines']} warning/error line(s), exited: {log['exited']}: "
                         + "; ".join(f"`{m[:160]}` ×{n}" for m, n in log["messages"].items()))
    return lines


def _s(seconds: float | None) -> str:
    return "never (timed out)" if seconds is None else f"{seconds:.1f} s"
