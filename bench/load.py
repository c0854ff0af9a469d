"""Load: 10,000 mixed deliveries at concurrency 32 against the scale-out stack; then nothing lost?

`python -m bench.load [--smoke] [-n 10000] [-c 32]`. The stack and the mix are bench/mixed.py's:
gunicorn -w 2 (web only) + 2 `python -m bot.worker` on PostgreSQL, the fake GitHub behind them.
Figures, not asserts: acknowledgement count, non-2xx, rate and latency; after the queue drains,
lost deliveries, jobs not done, dead or stuck, GitHub calls made and requests GitHub would refuse.
"""

from __future__ import annotations

import argparse
import json
import time

from bench import checks, mixed
from bench.sender import Sender

SMOKE_COUNT = 300


def run(smoke: bool, count: int | None = None, concurrency: int = 32) -> dict:
    count = count or (SMOKE_COUNT if smoke else 10_000)
    stack = mixed.start()
    try:
        plan = mixed.plan(stack, count)
        since, remaining = len(stack.fake.requests), stack.fake.rate_limit_remaining
        pids_before = stack.processes()
        sender = Sender(stack.web.url, plan, concurrency=concurrency)
        if not sender.wait(timeout=max(600.0, count / 5)):
            raise RuntimeError("the load generator did not finish")
        drained = mixed.drain(stack, timeout=max(120.0, count / 20))
        return {
            "deliveries": count, "concurrency": concurrency, "installations": len(stack.installs),
            "mix": dict(plan.kinds), "write_interval_s": mixed.WRITE_INTERVAL, "log_level": stack.log_level,
            "acks": checks.acknowledgements(sender.results, sender.elapsed),
            "drain_s": round(drained, 1) if drained is not None else None,
            "lost": checks.lost(stack, sender.results),
            "github": checks.github(stack, since, remaining),
            "logs": checks.process_logs(stack),
            "processes_replaced": sorted(set(pids_before.values()) ^ set(stack.processes().values())),
        }
    finally:
        mixed.stop(stack)


def markdown(result: dict) -> str:
    acks = result["acks"]
    lines = [
        "## Load (`bench/load.py`)",
        "",
        f"{result['deliveries']:,} mixed deliveries at concurrency {result['concurrency']}, one connection each, "
        f"to `gunicorn app:app -w 2` (web only) with 2 `python -m bot.worker` on PostgreSQL and the fake GitHub "
        f"({result['installations']} installations, `GITHUB_WRITE_INTERVAL_SECONDS={result['write_interval_s']}`, "
        f"`LOG_LEVEL={result['log_level']}`). Mix: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result["mix"].items(), key=lambda kv: -kv[1])) + ".",
        "",
        "| answered | non-2xx | rate | p50 | p99 | max |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {acks['count']:,} | {acks['non_2xx']} | {acks['rate_per_s']}/s | {acks['p50_ms']} ms | "
        f"{acks['p99_ms']} ms | {acks['max_ms']} ms |",
        "",
        "Latency: from opening the connection to the whole answer read.",
        "",
        *checks.check_markdown(result),
    ]
    if acks["non_2xx_examples"]:
        lines.append("- **non-2xx**: " + "; ".join(acks["non_2xx_examples"][:5]))
    if result["processes_replaced"]:
        lines.append(f"- **processes replaced during the run** (pids): {result['processes_replaced']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_COUNT} deliveries")
    parser.add_argument("-n", "--count", type=int, help="deliveries (default 10000)")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    result = run(args.smoke, args.count, args.concurrency)
    print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=2))
    print(f"(whole run {time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
