"""Soak: mixed deliveries at a steady rate for minutes; does any process grow, is anything lost?

`python -m bench.soak [--minutes 10] [--rate 50] [--smoke]` (smoke: 30 s). The stack and the mix are
bench/mixed.py's. Every 10 s it samples VmRSS of the gunicorn arbiter, each gunicorn worker and each
`python -m bot.worker`, and the queue's depth. Per process: RSS after warm-up (the first sample at
or after one minute, a third of the run when shorter), at the end, the maximum, and growth (end vs
after warm-up; the target is < 10 %). Then, as bench/load.py: non-2xx, lost, jobs, GitHub calls.
"""

from __future__ import annotations

import argparse
import json
import time

from bench import checks, mixed
from bench.sender import Sender

SAMPLE_EVERY = 10.0


def run(smoke: bool, minutes: float = 10.0, rate: float = 50.0) -> dict:
    seconds = 30.0 if smoke else minutes * 60
    warm_up = min(60.0, seconds / 3)
    stack = mixed.start()
    try:
        plan = mixed.plan(stack, int(rate * seconds))
        since, remaining = len(stack.fake.requests), stack.fake.rate_limit_remaining
        sender = Sender(stack.web.url, plan, concurrency=32, rate=rate)
        t0, samples = time.monotonic(), []
        while True:
            samples.append(_sample(stack, time.monotonic() - t0))
            if sender.wait(timeout=SAMPLE_EVERY):
                break
            if time.monotonic() - t0 > seconds * 2 + 600:
                raise RuntimeError("the load generator did not finish")
        samples.append(_sample(stack, time.monotonic() - t0))
        drained = mixed.drain(stack, timeout=max(120.0, rate * seconds / 20))
        return {
            "seconds": seconds, "target_rate_per_s": rate, "warm_up_s": warm_up, "installations": len(stack.installs),
            "mix": dict(plan.kinds), "write_interval_s": mixed.WRITE_INTERVAL, "log_level": stack.log_level,
            "acks": checks.acknowledgements(sender.results, sender.elapsed),
            # How far behind its schedule the generator sent (if large, answers queued up at the sender).
            "send_lag_max_ms": round(max(r[6] - i / rate for i, r in enumerate(sender.results)) * 1000, 1),
            "rss": _rss_figures(samples, warm_up),
            "queue_depth": [(round(s["t"]), s["queued"]) for s in samples],
            "drain_s": round(drained, 1) if drained is not None else None,
            "lost": checks.lost(stack, sender.results),
            "github": checks.github(stack, since, remaining),
            "logs": checks.process_logs(stack),
        }
    finally:
        mixed.stop(stack)


def _sample(stack: mixed.Stack, t: float) -> dict:
    [(queued,)] = stack.sql("SELECT count(*) FROM jobs WHERE state = 'queued' AND run_at <= :now", {"now": time.time()})
    return {"t": t, "queued": queued, "rss_kb": {name: checks.rss_kb(pid) for name, pid in stack.processes().items()}}


def _rss_figures(samples: list[dict], warm_up: float) -> dict[str, dict]:
    """Per process: MB after warm-up, at the end, at most, and growth in % (None if it died)."""
    figures = {}
    names = dict.fromkeys(name for s in samples for name in s["rss_kb"])  # in order of appearance
    for name in names:
        series = [(s["t"], s["rss_kb"].get(name)) for s in samples if s["rss_kb"].get(name)]
        warm = next((kb for t, kb in series if t >= warm_up), None)
        end = series[-1][1] if series else None
        figures[name] = {
            "after_warm_up_mb": _mb(warm), "end_mb": _mb(end),
            "max_mb": _mb(max((kb for _, kb in series), default=None)),
            "growth_pct": round((end - warm) / warm * 100, 1) if warm and end else None,
            "samples": len(series), "alive_at_end": name in samples[-1]["rss_kb"] and bool(samples[-1]["rss_kb"][name]),
        }
    return figures


def _mb(kb: int | None) -> float | None:
    return round(kb / 1024, 1) if kb else None


def markdown(result: dict) -> str:
    acks = result["acks"]
    lines = [
        "## Soak (`bench/soak.py`)",
        "",
        f"{result['seconds'] / 60:g} minutes of mixed deliveries at {result['target_rate_per_s']:g}/s "
        f"(achieved {acks['rate_per_s']}/s, {acks['count']:,} in all), the stack of bench/load.py "
        f"({result['installations']} installations, `GITHUB_WRITE_INTERVAL_SECONDS={result['write_interval_s']}`, "
        f"`LOG_LEVEL={result['log_level']}`). RSS sampled every {SAMPLE_EVERY:g} s; warm-up {result['warm_up_s']:g} s.",
        "",
        "| process | RSS after warm-up | at end | max | growth |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, rss in result["rss"].items():
        dead = "" if rss["alive_at_end"] else " (gone before the end)"
        lines.append(f"| {name}{dead} | {rss['after_warm_up_mb']} MB | {rss['end_mb']} MB | {rss['max_mb']} MB | "
                     f"{rss['growth_pct']} % |")
    depth = result["queue_depth"]
    lines += [
        "",
        f"- Answers: {acks['count']:,}, non-2xx **{acks['non_2xx']}**; latency p50 {acks['p50_ms']} ms, "
        f"p99 {acks['p99_ms']} ms, max {acks['max_ms']} ms; the sender was at most {result['send_lag_max_ms']} ms "
        "behind its schedule. Due jobs waiting at each sample: "
        + ", ".join(f"{q}" for _, q in depth) + f" (max {max(q for _, q in depth)}).",
        *checks.check_markdown(result),
    ]
    if acks["non_2xx_examples"]:
        lines.append("- **non-2xx**: " + "; ".join(acks["non_2xx_examples"][:5]))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="deliveries per second")
    parser.add_argument("--smoke", action="store_true", help="30 seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    result = run(args.smoke, args.minutes, args.rate)
    print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
