"""The scale-out stack under a realistic mix of deliveries, shared by bench/load.py and bench/soak.py.

Topology: `gunicorn app:app -w 2` from the repository root (BOT_INLINE_WORKERS=0), two
`python -m bot.worker` processes, one PostgreSQL database of the run's own (`sb_load_<random>`,
dropped after), and the fake GitHub (tests/fakegithub) as GITHUB_API_URL. Each of a few
installations has a repository with a Copilot pull request (#7) whose agent session is running,
so jobs make real calls: 👀 reactions and replies to `/session list`, timeline reads, status comments.

Deliveries are GitHub's own example payloads, signed before the clock starts (the delivery id
header is outside the signature), and POSTed one connection per delivery, as GitHub does, from a
separate process, so the load generator and the fake GitHub do not share a GIL.
"""

from __future__ import annotations

import copy
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import bot.handlers  # noqa: F401  (registers the periodic job kinds)
from bot import schedule
from tests import sessions_payloads as hooks
from tests.fakegithub import APP_ID, objects, payloads
from tests.fakegithub.server import RATE_LIMIT, FakeGitHub
from tests.servers import Gunicorn, Worker, bot_env

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WEBHOOK_PATH = "/api/github/webhooks"
SECRET = "bench-" + secrets.token_hex(8)
WRITE_INTERVAL = 0.01  # GITHUB_WRITE_INTERVAL_SECONDS: 1 s in production; the fake needs no pacing
PR = 7
USERS = [f"dev{n:03d}" for n in range(100)]  # commenters: COMMAND_RATE_LIMIT is per person and repository
DUPLICATES = 0.02  # share of deliveries that repeat an earlier delivery id (GitHub's redelivery)

# What a delivery is, by weight (before duplicates): most of what GitHub sends an App is ignored.
WEIGHTS = {
    "copilot_run": 18,      # workflow_run of the agent: index, timeline read, status comment
    "copilot_job": 10,      # workflow_job of the agent's run
    "ci_run": 10,           # workflow_run of ordinary CI: not a session, no call
    "pull_sync": 10,        # pull_request.synchronize on the Copilot PR
    "command": 4,           # issue_comment.created "/session list": 👀 + a reply (2 writes)
    "comment": 18,          # issue_comment.created, plain text: no call
    "ping": 4,              # answered 200, not stored
    "repos_added": 1,       # installation_repositories.added: a backfill of the added repository
    "push": 8, "star": 5, "issues": 6, "check_suite": 6,  # events nobody handles: stored, ignored
}
FIGURE_KINDS = sorted(WEIGHTS) + ["duplicate"]


@dataclass
class Install:
    id: int
    repo: str
    extra_repo: str  # on GitHub, not yet given to the App: `repos_added` adds it
    run: dict
    ci_run: dict
    pull: dict


@dataclass
class Stack:
    fake: FakeGitHub
    database_url: str
    web: Gunicorn | None
    workers: list[Worker]
    installs: list[Install]
    log_level: str

    def processes(self) -> dict[str, int]:
        """name → pid of every bot process: the arbiter, its workers, the job workers."""
        found = {"gunicorn arbiter": self.web.proc.pid}
        found.update({f"gunicorn worker {pid}": pid for pid in self.web.worker_pids()})
        found.update({f"bot.worker {n + 1}": w.proc.pid for n, w in enumerate(self.workers)})
        return found

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()


# -- the stack -----------------------------------------------------------------------------------

def start(installations: int = 3, bot_workers: int = 2, log_level: str = "info") -> Stack:
    """Fake GitHub with `installations`, a fresh database, the web and the job workers, set up."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=public).start()
    # The fake keeps one budget for everything and never resets it; GitHub gives each installation
    # its own 5,000 an hour. Each installation brings its share.
    fake.rate_limit_remaining = RATE_LIMIT * installations
    installs = [_install(fake, 7001 + n, f"org{n + 1}") for n in range(installations)]

    name = "sb_load_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    env = bot_env(APP_ID=APP_ID, PRIVATE_KEY=pem, WEBHOOK_SECRET=SECRET, GITHUB_API_URL=fake.url,
                  DATABASE_URL=database_url, BOT_INLINE_WORKERS=0, LOG_LEVEL=log_level,
                  GITHUB_WRITE_INTERVAL_SECONDS=WRITE_INTERVAL)
    stack = Stack(fake, database_url, None, [], installs, log_level)
    try:
        stack.web = _started(Gunicorn, env)  # -w 2; migrates the database (AUTO_MIGRATE) under a lock
        for _ in range(bot_workers):
            stack.workers.append(_started(Worker, env))
        _set_up_sessions(stack)
    except BaseException:
        stop(stack)
        raise
    return stack


def stop(stack: Stack) -> None:
    for process in [*stack.workers, stack.web]:
        if process:
            process.stop()
    stack.fake.stop()
    name = stack.database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _started(cls, env: dict):
    """`cls(env)`, a tests/servers.py process whose constructor waits until it is up; stopped if it
    never comes up (the constructor's exception would otherwise leave it running, unreachable)."""
    process = cls.__new__(cls)
    try:
        process.__init__(env)
    except BaseException:
        if getattr(process, "proc", None):
            process.stop()
        raise
    return process


def _install(fake: FakeGitHub, installation_id: int, org: str) -> Install:
    repo, extra = f"{org}/app", f"{org}/docs"
    fake.add_installation(installation_id, org, [repo])
    owner = fake.repositories[repo.lower()]["owner"]
    fake.repositories[extra.lower()] = objects.full_repository(extra, owner, fake.url)
    t0 = float(int(time.time()) - 120)
    run = fake.add_run(repo, installation_id * 10, status="in_progress", conclusion=None, pull_requests=[PR],
                       created_at=t0, run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa")
    ci_run = fake.add_run(repo, installation_id * 10 + 1, path=".github/workflows/ci.yml", event="push",
                          head_branch="main", name="CI", actor="monalisa", triggering_actor="monalisa")
    pull = fake.add_pull(repo, PR, created_at=t0 + 20)
    return Install(installation_id, repo, extra, run, ci_run, pull)


def _set_up_sessions(stack: Stack) -> None:
    """Install the App, open each Copilot PR and start its session; wait until the bot knows."""
    for inst in stack.installs:
        created = payloads.with_installation(payloads.example("installation", "created"), inst.id)
        created["installation"]["account"] = stack.fake.installations[inst.id]["account"]
        # The App's installation last: a backfill would flag the running session as a past one.
        for event, payload in [("pull_request", hooks.pull_request("opened", stack.fake, inst.pull, inst.id)),
                               ("workflow_run", hooks.workflow_run("in_progress", stack.fake, inst.run, inst.id)),
                               ("installation", created)]:
            status = payloads.deliver(stack.web.url + WEBHOOK_PATH, event, payload, SECRET,
                                      delivery=f"setup-{uuid.uuid4()}").status_code
            if status != 202:
                raise RuntimeError(f"set-up delivery {event} answered {status}")
            # In order: the session must be indexed before the next event refers to it.
            if drain(stack, timeout=60, poll=0.05, deliveries_only=True) is None:
                raise RuntimeError(f"set-up delivery {event} was not processed within 60 s")
    if drain(stack, timeout=60) is None:
        left = stack.sql("SELECT id, kind, state, attempts, run_at - extract(epoch FROM now()), last_error, args"
                         f" FROM jobs WHERE {UNFINISHED}", (PERIODIC,))
        raise RuntimeError(f"the set-up's jobs did not finish within 60 s: {left}\n" + "\n".join(
            line for p in [stack.web, *stack.workers] for line in p.output if "WARNING" in line or "ERROR" in line))
    # Give the installations their extra repository only now, so the backfills above stay small.
    for inst in stack.installs:
        stack.fake.installation_repositories[inst.id].append(inst.extra_repo)


# -- the deliveries ------------------------------------------------------------------------------

@dataclass
class Plan:
    """What to send, in order: (delivery id, event, body key); bodies signed once, by key."""

    items: list[tuple[str, str, str]] = field(default_factory=list)
    bodies: dict[str, tuple[bytes, dict]] = field(default_factory=dict)
    kinds: Counter = field(default_factory=Counter)

    def body(self, key: str, event: str, payload: dict) -> str:
        if key not in self.bodies:
            raw = json.dumps(payload).encode()
            self.bodies[key] = (raw, payloads.headers(event, raw, SECRET, delivery="-"))
        return key


def plan(stack: Stack, n: int, seed: int = 6) -> Plan:
    """`n` deliveries drawn from WEIGHTS, ~2 % of them repeating an earlier delivery id."""
    rng = random.Random(seed)
    result = Plan()
    kinds, weights = zip(*WEIGHTS.items())
    stored: list[int] = []  # indexes of earlier deliveries that are stored (not pings)
    for i in range(n):
        if stored and rng.random() < DUPLICATES:
            earlier = result.items[rng.choice(stored[:max(1, len(stored) - 50)])]  # not one still in flight
            result.items.append(earlier)
            result.kinds["duplicate"] += 1
            continue
        kind = rng.choices(kinds, weights)[0]
        event, key = _delivery(stack, result, kind, rng.choice(stack.installs), rng, i)
        result.items.append((f"load-{uuid.uuid4()}", event, key))
        result.kinds[kind] += 1
        if kind != "ping":
            stored.append(i)
    return result


def _delivery(stack: Stack, p: Plan, kind: str, inst: Install, rng: random.Random, i: int) -> tuple[str, str]:
    """(event, body key) of one delivery of `kind`: one body per kind and installation, except that
    every command is a comment of its own in the fake."""
    fake, key = stack.fake, f"{kind}:{i if kind == 'command' else inst.id}"
    if key in p.bodies:
        return p.bodies[key][1]["X-GitHub-Event"], key
    if kind == "copilot_run":
        return "workflow_run", p.body(key, "workflow_run", hooks.workflow_run("in_progress", fake, inst.run, inst.id))
    if kind == "ci_run":
        return "workflow_run", p.body(key, "workflow_run", hooks.workflow_run("completed", fake, inst.ci_run, inst.id))
    if kind == "copilot_job":
        return "workflow_job", p.body(key, "workflow_job", hooks.workflow_job(
            "in_progress", fake, inst.run, inst.id, job_id=inst.run["id"] * 10))
    if kind == "pull_sync":
        return "pull_request", p.body(key, "pull_request", hooks.pull_request("synchronize", fake, inst.pull, inst.id))
    if kind in ("command", "comment"):
        text = "/session list" if kind == "command" else "Looks good; one nit below."
        made = fake.add_comment(inst.repo, PR, text, login=rng.choice(USERS))
        payload = _around("issue_comment", "created", fake, inst)
        payload["issue"].update(number=PR, pull_request={"url": f"{fake.url}/repos/{inst.repo}/pulls/{PR}"})
        payload.update(comment=made, sender=made["user"])
        return "issue_comment", p.body(key, "issue_comment", payload)
    if kind == "ping":
        payload = payloads.example("ping")
        payload["hook"]["app_id"] = APP_ID
        return "ping", p.body(key, "ping", payload)
    if kind == "repos_added":
        payload = payloads.with_installation(payloads.example("installation_repositories", "added"), inst.id)
        payload["installation"]["account"] = fake.installations[inst.id]["account"]
        extra = fake.repositories[inst.extra_repo.lower()]
        payload["repositories_added"] = [{k: extra[k] for k in ("id", "node_id", "name", "full_name", "private")}]
        payload["repositories_removed"] = []
        return "installation_repositories", p.body(key, "installation_repositories", payload)
    action = {"push": None, "star": "created", "issues": "opened", "check_suite": "completed"}[kind]
    return kind, p.body(key, kind, _around(kind, action, fake, inst))


def _around(event: str, action: str | None, fake: FakeGitHub, inst: Install) -> dict:
    payload = payloads.example(event, action)
    payload["repository"] = copy.deepcopy(fake.repositories[inst.repo.lower()])
    payload.pop("organization", None)
    return payloads.with_installation(payload, inst.id)


# -- sending -------------------------------------------------------------------------------------

class Sender:
    """Sends a plan from a child process: `concurrency` at a time, as fast as answered or at `rate`/s.

    Each result: (delivery id, event, HTTP status or 0, answered "duplicate", seconds from connect
    to the whole answer, error or "", seconds since the first send).
    """

    def __init__(self, url: str, p: Plan, *, concurrency: int, rate: float | None = None):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_send_all, args=(child, url, p.items, p.bodies, concurrency, rate),
                                   daemon=True)
        self.process.start()
        child.close()
        self.results: list[tuple] | None = None
        self.elapsed = 0.0

    def wait(self, timeout: float) -> bool:
        """True once the child reported (the results are then in `results`); raises if it died."""
        deadline = time.monotonic() + timeout
        while self.results is None and time.monotonic() < deadline:
            if self._conn.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
                self.results, self.elapsed = self._conn.recv()
                self.process.join(30)
            elif not self.process.is_alive():
                raise RuntimeError(f"the load generator died (exit code {self.process.exitcode})")
        return self.results is not None


def _send_all(conn, url: str, items: list, bodies: dict, concurrency: int, rate: float | None) -> None:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    t0 = time.perf_counter()

    def one(item):
        guid, event, key = item
        body, signed = bodies[key]
        headers = {**signed, "X-GitHub-Delivery": guid}
        started = time.perf_counter()
        status, duplicate, error = 0, False, ""
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request("POST", WEBHOOK_PATH, body, headers)
            response = connection.getresponse()
            answer = response.read()
            status = response.status
            duplicate = status == 202 and json.loads(answer).get("duplicate") is True
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        return guid, event, status, duplicate, time.perf_counter() - started, error, started - t0

    with ThreadPoolExecutor(concurrency) as pool:
        if rate is None:
            results = list(pool.map(one, items))
        else:
            futures = []
            for i, item in enumerate(items):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(one, item))
            results = [f.result() for f in futures]
    conn.send((results, time.perf_counter() - t0))
    conn.close()


# -- checking ------------------------------------------------------------------------------------

PERIODIC = list(schedule.PERIODIC)  # kinds whose next occurrence is always queued (bot/schedule.py)
# Jobs still to run: running, or queued (except the next occurrence of a periodic kind).
UNFINISHED = ("state = 'running' OR (state = 'queued' AND NOT"
              " (kind = ANY(%s) AND run_at > extract(epoch FROM now())))")

def drain(stack: Stack, timeout: float, poll: float = 0.5, *, deliveries_only: bool = False) -> float | None:
    """Seconds until no job is queued or running; None on timeout. (Every stored delivery has its
    job from the start, so this is also "every delivery processed, or its job dead".)

    `deliveries_only`: until every delivery job has finished (later jobs they queued may wait).
    """
    kinds = "kind = 'delivery' AND" if deliveries_only else ""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        [(busy,)] = stack.sql(f"SELECT count(*) FROM jobs WHERE {kinds} ({UNFINISHED})", (PERIODIC,))
        if busy == 0:
            return time.monotonic() - t0
        time.sleep(poll)
    return None


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
    stored = Counter(g for (g,) in stack.sql("SELECT guid FROM deliveries WHERE guid LIKE 'load-%%'"))
    delivery_jobs = {g: (state, attempts, error) for g, state, attempts, error in stack.sql(
        "SELECT d.guid, j.state, j.attempts, j.last_error FROM jobs j JOIN deliveries d ON d.id = j.delivery_id"
        " WHERE j.kind = 'delivery' AND d.guid LIKE 'load-%%'")}
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
                      "SELECT id, kind, state, attempts, run_at - extract(epoch FROM now()), last_error FROM jobs"
                      f" WHERE {UNFINISHED} ORDER BY id LIMIT 20", (PERIODIC,))],
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
