"""Throughput end to end (issue #15): deliveries per second acknowledged *and processed*, against the
floor and Probot, in one run.

    .venv/bin/python -m bench.throughput [--smoke] [--seconds 10] [--rounds 3] [--mixed 3000] [--stops 12]
                                         [--baseline COMMIT] [--out DIR]     # `make bench` runs it first

The bot as deployed, on bench/mixed.py's stack (gunicorn from the checkout with its gunicorn.conf.py,
the fake GitHub in this process):

- default  as `make run` configures it: SQLite, job threads inside the 2 gunicorn workers, LOG_LEVEL info
- pg       PostgreSQL, gunicorn with BOT_INLINE_WORKERS=0 and two `python -m bot.worker` processes

Load A: wrk at concurrency 8, a connection per delivery, sending GitHub's `issue_comment.created`
example (bench/intake.py's body, no command in it), in interleaved rounds with the floor
(bench/floor_app.py) and Probot (a connection per delivery), which acknowledge and process nothing
more. During each bot's load, `/session stop` comments spread over the burst are timed from their POST
to the cancel reaching the fake GitHub (bench/burst_stops.py). Load B: bench/mixed.py's mixed
deliveries (commands, Copilot runs, pull requests among the noise), sent by bench/sender.py at
concurrency 8. For each: the 2xx, the ack rate and latency, the drain (from the end of the load until
every delivery is processed: bench/processed.py), and the end-to-end rate = 2xx / (load + drain).
Every delivery is checked to be stored and processed exactly once (failures, not targets).

`--baseline COMMIT` (or BENCH_BASELINE): the same bot configurations also from a temporary worktree of
COMMIT (bench/baseline.py), reported as "before (<sha>)" rows.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bench import baseline, burst_stops, checks, intake, mixed, processed, throughput_report, wrk
from bench.sender import Sender
from bench.servers import (Server, floor_server, make_private_key, pg_required, probot_installed,
                           probot_server, wait_quiet)
from bench.wrk import Config
from tests.harness.processes import ROOT

TITLE = "Throughput end to end: deliveries acknowledged and processed per second, against the floor and Probot"
CONCURRENCY = 8  # GitHub's deliveries to one App arrive a few at a time; wrk and the Sender both use it
DRAIN_TIMEOUT = 300.0
CANCEL_TIMEOUT = 60.0  # after the drain, for a stop's cancel still to come (its command job runs later)
# Three rounds, so a median is one round's figure and one disturbed cell cannot move it (with two, the
# "median" is their mean: a floor cell at a fifth of its speed once halved the floor's row).
SIZES = {False: {"seconds": 10, "rounds": 3, "mixed": 3000, "stops": 12},
         True: {"seconds": 2, "rounds": 1, "mixed": 150, "stops": 2}}


@dataclass(frozen=True)
class Deployment:
    """One way to run the bot, from this checkout or an older one (`before`: its short sha)."""

    key: str
    label: str
    database: str
    inline: bool
    bot_workers: int
    root: Path = ROOT
    before: str | None = None

    def start(self, installations: int, write_interval: float | None) -> mixed.Stack:
        """bench/mixed.py's stack deployed this way, with `installations`, each with a running session."""
        return mixed.start(installations, self.bot_workers, "info", database=self.database, inline=self.inline,
                           write_interval=write_interval, root=self.root)


DEPLOYMENTS = (
    Deployment("default", "SQLite, job threads inside the 2 gunicorn workers (`make run`)", "sqlite", True, 0),
    Deployment("pg", "PostgreSQL, gunicorn with `BOT_INLINE_WORKERS=0` + 2 `python -m bot.worker`", "pg", False, 2),
)


def deployments(before: tuple[Path, str] | None) -> list[Deployment]:
    """This checkout's deployments, and the same from the baseline's folder when there is one."""
    found = list(DEPLOYMENTS)
    if before:
        root, short = before
        found += [replace(d, key=f"before-{d.key}", root=root, before=short) for d in DEPLOYMENTS]
    return found


@dataclass
class Target:
    """What wrk drives in load A: a bot's stack (it processes deliveries), or the floor or Probot."""

    key: str
    port: int
    stack: mixed.Stack | None = None
    stops: list[list[burst_stops.Stop]] = field(default_factory=list)  # per round


# -- load A: wrk ---------------------------------------------------------------------------------

def _start_bots(found: list[Deployment], n_stops: int, notes: list[str], stack_of: ExitStack) -> list[Target]:
    targets = []
    for deployment in found:
        print(f"throughput: starting {deployment.key}", flush=True)
        try:
            # The bot's own write pacing (1 s): each stop is on an installation of its own, within its burst.
            stack = deployment.start(max(1, n_stops), write_interval=None)
        except Exception as exc:  # noqa: BLE001 -- no PostgreSQL here: noted, the rest still runs
            if deployment.database == "pg" and "unavailable" in str(exc) and not pg_required():
                notes.append(f"{deployment.key} not measured: {exc}")
                continue
            raise
        stack_of.callback(mixed.stop, stack)
        targets.append(Target(deployment.key, urlsplit(stack.web.url).port, stack))
    return targets


def _start_references(tmp: Path, notes: list[str], stack_of: ExitStack) -> list[Target]:
    servers: list[Server] = [floor_server(mixed.SECRET, tmp)]
    if probot_installed():
        servers.append(probot_server(make_private_key(), mixed.SECRET, tmp))
    else:
        notes.append("Probot not measured: run `npm ci` in bench/probot (`make bench-tools` does)")
    for server in servers:
        server.start()
        stack_of.callback(server.stop)
    for server in servers:
        server.wait_ready()
    return [Target("probot-close" if s.name == "probot" else s.name, s.port) for s in servers]


def _wrk_once(target: Target, seconds: float, payload: tuple[Path, str], prefix: str,
              stops: list[burst_stops.Stop]) -> dict:
    """One wrk run on `target`, with `stops` sent meanwhile, then its drain: the run's figures."""
    body_file, signature = payload
    stack = target.stack
    since = processed.last_delivery_id(stack) if stack else 0
    started = time.monotonic()
    sending = burst_stops.Sending(stack, stops, started) if stops else None
    if sending:
        sending.start()
    result = wrk.run_wrk(target.port, Config(target.key, target.key, "close"), CONCURRENCY, seconds, body_file,
                         signature, prefix)
    ended = time.monotonic()
    if sending:
        sending.join()
    # The floor and Probot process nothing after their acknowledgement: no drain.
    drained = processed.drain(stack, since, ended, DRAIN_TIMEOUT) if stack else {"seconds": 0.0, "backlog": 0}
    if stops:
        burst_stops.time_cancels(stack, stops, CANCEL_TIMEOUT)
    return throughput_report.figures(target.key, result["ok"], result["duration_us"] / 1e6,
                                     result["p50_us"] / 1000, result["p99_us"] / 1000, drained, DRAIN_TIMEOUT,
                                     prefix=prefix, non_2xx=result["non_2xx_3xx"], errors=result["errors"])


def load_a(found: list[Deployment], sizes: dict, notes: list[str]) -> dict:
    """Load A on every bot deployment, the floor and Probot, rounds interleaved: runs, stops, exactly-once."""
    rounds, seconds = sizes["rounds"], sizes["seconds"]
    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-throughput-"))
    body_file, signature, size = intake.make_payload(tmp, mixed.SECRET)
    payload, tag = (body_file, signature), secrets.token_hex(3)
    runs: list[dict] = []
    with ExitStack() as stack_of:
        stack_of.callback(shutil.rmtree, tmp, True)
        bots = _start_bots(found, sizes["stops"], notes, stack_of)
        targets = _start_references(tmp, notes, stack_of) + bots
        per_round = -(-sizes["stops"] // rounds)  # each round's stops on installations of their own
        for target in bots:
            target.stops = [burst_stops.prepare(target.stack, target.stack.installs[r * per_round:(r + 1) * per_round],
                                                seconds, f"{tag}{r}") for r in range(rounds)]
        # Warm every server (imports, pools, Node's JIT; the bots' queues drained) before anything counts.
        warm = [dict(_wrk_once(t, 1, payload, f"w{tag}-{t.key}", []), warm_up=True) for t in targets]
        for run in warm:
            if run["ok"] == 0:
                raise RuntimeError(f"{run['target']} acknowledged nothing while warming up: {run}")
        print(f"throughput: load A, {rounds} round(s) × {len(targets)} servers × {seconds:g} s, c={CONCURRENCY}, "
              f"payload {size} bytes", flush=True)
        for round_number in range(rounds):
            shift = round_number % len(targets)  # rotate, so no server always follows the same one
            for target in targets[shift:] + targets[:shift]:
                stops = target.stops[round_number] if target.stack else []
                waited = wait_quiet()  # whatever the last server still does must not land on this one
                run = _wrk_once(target, seconds, payload, f"a{tag}-{round_number}-{target.key}", stops)
                run.update(round=round_number, stops=[throughput_report.stop_figures(s) for s in stops],
                           quiet_wait_s=waited)
                runs.append(run)
                print(f"  round {round_number + 1} {target.key:<16} {throughput_report.one_line(run)}", flush=True)
        exactly_once = _account_a(bots, warm + runs)
    return {"runs": runs, "warm_up": warm, "exactly_once": exactly_once, "payload_bytes": size,
            "targets": [t.key for t in targets]}


def _account_a(bots: list[Target], runs: list[dict]) -> dict:
    """Per bot: each wrk run's 2xx against what its database holds, and the stops'."""
    found = {}
    for target in bots:
        counted = processed.tally(target.stack, 0, processed.wrk_run_group)
        mine = [run for run in runs if run["target"] == target.key]
        stops = [s for round_stops in target.stops for s in round_stops]
        groups = {run["prefix"]: run["ok"] for run in mine}
        groups["stops"] = sum(1 for s in stops if s.status and 200 <= s.status < 300)
        found[target.key] = {
            "groups": {prefix: {"acknowledged": ok, **counted.get(prefix, {})} for prefix, ok in groups.items()},
            # wrk stops with up to one request per connection in flight, which may be stored uncounted.
            "in_flight_bound_ok": all(0 <= counted.get(run["prefix"], {}).get("stored", 0) - run["ok"] <= CONCURRENCY
                                      for run in mine),
            "failures": [f for prefix, ok in groups.items()
                         for f in processed.problems(f"{target.key} load A {prefix}", counted.get(prefix, {}), ok,
                                                     drained=all(r["drain_s"] is not None for r in mine))],
        }
    return found


# -- load B: the mixed load ------------------------------------------------------------------------

def load_b(found: list[Deployment], count: int, notes: list[str]) -> list[dict]:
    """bench/mixed.py's mix, `count` deliveries at concurrency 8, on each deployment in turn."""
    results = []
    for deployment in found:
        print(f"throughput: load B on {deployment.key}, {count} mixed deliveries", flush=True)
        try:
            stack = deployment.start(3, write_interval=mixed.WRITE_INTERVAL)
        except Exception as exc:  # noqa: BLE001 -- as in load A
            if deployment.database == "pg" and "unavailable" in str(exc) and not pg_required():
                notes.append(f"{deployment.key} not measured on load B: {exc}")
                continue
            raise
        try:
            results.append(_mixed_once(deployment, stack, count))
        finally:
            mixed.stop(stack)
        print(f"  {deployment.key:<16} {throughput_report.one_line(results[-1])}", flush=True)
    return results


def _mixed_once(deployment: Deployment, stack: mixed.Stack, count: int) -> dict:
    plan = mixed.plan(stack, count)
    since_request, remaining = len(stack.fake.requests), stack.fake.rate_limit_remaining
    since = processed.last_delivery_id(stack)
    sender = Sender(stack.web.url, plan, concurrency=CONCURRENCY)
    if not sender.wait(timeout=max(600.0, count / 5)):
        raise RuntimeError("the load generator did not finish")
    ended = time.monotonic()
    drained = processed.drain(stack, since, ended, DRAIN_TIMEOUT)
    # What the deliveries queued in turn (timeline reads, status comments: coalesced 5 s and 10 s).
    rest = mixed.drain(stack, timeout=120)
    everything = round(time.monotonic() - ended, 2) if rest is not None else None
    acks = checks.acknowledgements(sender.results, sender.elapsed)
    run = throughput_report.figures(deployment.key, acks["count"] - acks["non_2xx"], sender.elapsed,
                                    acks["p50_ms"], acks["p99_ms"], drained, DRAIN_TIMEOUT)
    lost = checks.lost(stack, sender.results)
    github = checks.github(stack, since_request, remaining)
    counted = processed.tally(stack, since, lambda guid: "load" if guid.startswith("load-") else None).get("load", {})
    failures = processed.problems(f"{deployment.key} load B", counted, drained=drained["seconds"] is not None)
    failures += [f"{deployment.key} load B: {n} {what}" for what, n in (
        ("acknowledged deliveries lost", lost["lost"]),
        ("acknowledged as new more than once", len(lost["new_not_once"])),
        ("requests GitHub would refuse", github["problem_count"])) if n]
    run.update(deliveries=count, mix=dict(plan.kinds), non_2xx=acks["non_2xx"], all_jobs_done_s=everything,
               exactly_once=counted, lost=lost, github=github, logs=checks.process_logs(stack), failures=failures)
    return run


# -- the section -----------------------------------------------------------------------------------

def run(smoke: bool, *, seconds: float | None = None, rounds: int | None = None, mixed_count: int | None = None,
        stops: int | None = None, before: str | None = None) -> dict:
    """The throughput section: {title, markdown, data, targets, failures}."""
    sizes = dict(SIZES[smoke])
    for name, value in (("seconds", seconds), ("rounds", rounds), ("mixed", mixed_count), ("stops", stops)):
        if value:
            sizes[name] = value
    before = before or os.environ.get("BENCH_BASELINE") or None
    if not wrk.installed():
        raise RuntimeError("wrk is not installed (apt-get install -y wrk; `make bench-tools` does it)")
    notes: list[str] = []
    started = time.monotonic()
    with ExitStack() as stack_of:
        checkout = stack_of.enter_context(baseline.checkout(before)) if before else None
        if checkout and baseline.requirements_changed(checkout[1]):
            notes.append(f"requirements.txt changed since {checkout[1]}: its rows ran on this checkout's .venv")
        found = deployments(checkout)
        a = load_a(found, sizes, notes)
        b = load_b(found, sizes["mixed"], notes)
    data = {"sizes": sizes, "concurrency": CONCURRENCY, "drain_timeout_s": DRAIN_TIMEOUT, "notes": notes,
            "baseline": checkout[1] if checkout else None, "load_a": a, "load_b": b,
            "deployments": {d.key: {"label": d.label, "before": d.before} for d in found},
            "elapsed_s": round(time.monotonic() - started, 1)}
    data["summary"] = throughput_report.summarise(data)
    failures = [f for account in a["exactly_once"].values() for f in account["failures"]]
    failures += [f for result in b for f in result["failures"]]
    failures += [f"{key}: a stop's cancel never reached GitHub (within {CANCEL_TIMEOUT:g} s of the drain)"
                 for key, row in data["summary"]["stops"].items() if row["missing"]]
    if pg_required() and any("not measured" in note for note in notes):
        failures.append("throughput: PostgreSQL not measured under CI=true")
    return {"title": TITLE, "markdown": throughput_report.render(data, smoke), "data": data,
            "targets": throughput_report.targets(data["summary"], smoke), "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 round of 2 s, 150 mixed deliveries, 2 stops")
    parser.add_argument("--seconds", type=float, help="seconds of load A per server per round (default 10)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of load A (default 3)")
    parser.add_argument("--mixed", type=int, help="deliveries of load B per deployment (default 3000)")
    parser.add_argument("--stops", type=int, help="`/session stop`s per deployment during load A (default 12)")
    parser.add_argument("--baseline", help="also run the bot from this commit (default: $BENCH_BASELINE)")
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    args = parser.parse_args(argv)
    from bench import report

    return report.run_alone("throughput", lambda: run(args.smoke, seconds=args.seconds, rounds=args.rounds,
                                                      mixed_count=args.mixed, stops=args.stops, before=args.baseline),
                            smoke=args.smoke, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
