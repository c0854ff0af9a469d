"""The scale-out stack under a realistic mix of deliveries, shared by bench/load.py and bench/soak.py
(they send it with bench/sender.py and check what came of it with bench/checks.py).

Topology (`start()`'s defaults): `gunicorn app:app -w 2` from the repository root
(BOT_INLINE_WORKERS=0), two `python -m bot.worker` processes, one PostgreSQL database of the run's
own (dropped after), and the fake GitHub (tests/fakegithub) as GITHUB_API_URL. `start(database=
"sqlite", bot_workers=0, inline=True)` gives the default deployment instead (SQLite, job threads in
the gunicorn workers), and `root` another checkout (an older commit's, to compare). Each of a few
installations has a repository with a Copilot pull request (#7) whose agent session is running,
so jobs make real calls: 👀 reactions and replies to `/session list`, timeline reads, status comments.

Deliveries are GitHub's own example payloads, signed before the clock starts (the delivery id
header is outside the signature), and POSTed one connection per delivery, as GitHub does, from a
separate process, so the load generator and the fake GitHub do not share a GIL.
"""

from __future__ import annotations

import copy
import json
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

import bot.handlers  # noqa: F401  (registers the periodic job kinds)
from bench.servers import PG_ADMIN_URL
from bot import schedule
from tests import sessions_payloads as hooks
from tests.fakegithub import APP_ID, objects, payloads
from tests.fakegithub.server import RATE_LIMIT, FakeGitHub
from tests.harness.processes import ROOT
from tests.harness.stack import Stack as BotStack

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
    """The scale-out stack (tests/harness/stack.py's) and the installations set up on its fake GitHub."""

    bot: BotStack
    installs: list[Install]
    log_level: str

    @property
    def fake(self) -> FakeGitHub:
        return self.bot.fake

    @property
    def database_url(self) -> str:
        return self.bot.database_url

    @property
    def web(self):
        return self.bot.web

    @property
    def workers(self) -> list:
        return self.bot.workers

    def processes(self) -> dict[str, int]:
        """name → pid of every bot process: the arbiter, its workers, the job workers."""
        return self.bot.processes()

    def sql(self, query: str, params: dict | None = None) -> list[tuple]:
        """The rows of `query` (`:name` parameters) on the bot's database, SQLite or PostgreSQL."""
        with self.bot.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params or {})]


# -- the stack -----------------------------------------------------------------------------------

def start(installations: int = 3, bot_workers: int = 2, log_level: str = "info", *, database: str = "pg",
          inline: bool = False, write_interval: float | None = WRITE_INTERVAL, root: Path = ROOT) -> Stack:
    """Fake GitHub with `installations`, a fresh database ("pg" or "sqlite"), the web (its workers running
    jobs too if `inline`) and `bot_workers` job worker processes, all from the checkout `root`, set up.
    `write_interval`: GITHUB_WRITE_INTERVAL_SECONDS, None for the bot's default."""
    settings = {"BOT_INLINE_WORKERS": int(inline), "LOG_LEVEL": log_level}
    if write_interval is not None:
        settings["GITHUB_WRITE_INTERVAL_SECONDS"] = write_interval
    base = BotStack.create(database=database, pg_admin_url=PG_ADMIN_URL, secret=SECRET, root=root, **settings)
    try:
        # The fake keeps one budget for everything and never resets it; GitHub gives each installation
        # its own 5,000 an hour. Each installation brings its share.
        base.fake.rate_limit_remaining = RATE_LIMIT * installations
        stack = Stack(base, [_install(base.fake, 7001 + n, f"org{n + 1}") for n in range(installations)], log_level)
        migrate(base)
        base.start_web()  # -w 2
        for _ in range(bot_workers):
            base.start_worker()
        _set_up_sessions(stack)
    except BaseException:
        base.stop()
        raise
    return stack


def stop(stack: Stack) -> None:
    stack.bot.stop()


def migrate(bot: BotStack) -> None:
    """Migrate the database as `make run` does: that checkout's `flask --app app db upgrade`, so an older
    commit gets its own schema (its processes' AUTO_MIGRATE would then find nothing to do)."""
    flask = Path(sys.executable).parent / "flask"
    done = subprocess.run([str(flask), "--app", "app", "db", "upgrade"], cwd=bot.root, env=bot.env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"`flask db upgrade` in {bot.root} failed:\n{done.stdout}{done.stderr}")


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
            status = stack.bot.deliver(event, payload, delivery=f"setup-{uuid.uuid4()}").status_code
            if status != 202:
                raise RuntimeError(f"set-up delivery {event} answered {status}")
            # In order: the session must be indexed before the next event refers to it.
            if drain(stack, timeout=60, poll=0.05, deliveries_only=True) is None:
                raise RuntimeError(f"set-up delivery {event} was not processed within 60 s")
    if drain(stack, timeout=60) is None:
        left = stack.sql("SELECT id, kind, state, attempts, run_at - :now, last_error, args FROM jobs"
                         f" WHERE {UNFINISHED}", {"now": time.time()})
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

# -- checking ------------------------------------------------------------------------------------

PERIODIC = list(schedule.PERIODIC)  # kinds whose next occurrence is always queued (bot/schedule.py)
# Jobs still to run: running, or queued (except the next occurrence of a periodic kind); `:now` is
# time.time(), passed in so the clause reads the same on SQLite and PostgreSQL.
UNFINISHED = ("state = 'running' OR (state = 'queued' AND NOT"
              f" (kind IN ({', '.join(repr(kind) for kind in PERIODIC)}) AND run_at > :now))")

def drain(stack: Stack, timeout: float, poll: float = 0.5, *, deliveries_only: bool = False) -> float | None:
    """Seconds until no job is queued or running; None on timeout. (Every stored delivery has its
    job from the start, so this is also "every delivery processed, or its job dead".)

    `deliveries_only`: until every delivery job has finished (later jobs they queued may wait).
    """
    kinds = "kind = 'delivery' AND" if deliveries_only else ""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        [(busy,)] = stack.sql(f"SELECT count(*) FROM jobs WHERE {kinds} ({UNFINISHED})", {"now": time.time()})
        if busy == 0:
            return time.monotonic() - t0
        time.sleep(poll)
    return None
