"""The whole bot for end-to-end benchmarks: real gunicorn (and `python -m bot.worker`) on SQLite or
PostgreSQL, talking over sockets to the fake GitHub (tests/fakegithub) running in this process."""

from __future__ import annotations

import secrets
import threading
import time

from sqlalchemy import text

from bench.servers import PG_ADMIN_URL, children, rss_mb

REPO = "octo-org/bench"
INSTALLATION = 5150
WRITER = "hubot"  # has write access: may stop any session
SECRET = "bench-" + secrets.token_hex(8)
WEBHOOK_PATH = "/api/github/webhooks"
PERIODIC = ("prune", "redeliver")  # periodic job kinds (bot/schedule.py): never "settled"


def percentiles(values: list[float]) -> dict:
    """n, p50, p99 and max (linear interpolation between order statistics), rounded to 0.1."""
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def cut(q: float) -> float:
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {"n": len(ordered), "p50": round(cut(0.50), 1), "p99": round(cut(0.99), 1), "max": round(ordered[-1], 1)}


class Arrivals:
    """When each request reached the fake (time.time()).

    Uses the fake's own `Recorded.at` where it has one; otherwise a thread polls the fake's request
    list every half millisecond and stamps what is new (resolution ~1 ms).
    """

    def __init__(self, fake):
        self.fake = fake
        self.stamps: list[float] = []
        self._stop = threading.Event()
        self.native = False
        self._thread = threading.Thread(target=self._poll, daemon=True, name="bench-arrivals")
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.0005):
            n = len(self.fake.requests)
            while len(self.stamps) < n:
                if hasattr(self.fake.requests[len(self.stamps)], "at"):
                    self.native = True
                    return  # the fake stamps requests itself
                self.stamps.append(time.time())

    def at(self, index: int) -> float:
        request = self.fake.requests[index]
        if hasattr(request, "at"):
            return request.at
        while len(self.stamps) <= index:
            time.sleep(0.0005)
        return self.stamps[index]

    def stop(self) -> None:
        self._stop.set()

    @property
    def method(self) -> str:
        return ("the fake's own arrival stamp (`Recorded.at`)" if self.native
                else "polling the fake's request list every 0.5 ms (~1 ms resolution)")


class Stack:
    """The fake GitHub, a database, gunicorn (inline workers) or gunicorn + one `bot.worker`
    (tests/harness/stack.py's), with the App installed on REPO."""

    def __init__(self, *, database: str = "sqlite", separate_worker: bool = False, web_workers: int = 2,
                 config_file: str | None = None, inline_jobs: bool | None = None, **settings):
        """`separate_worker`: one `bot.worker` process too; `inline_jobs`: whether gunicorn's workers also
        run jobs (by default only when there is no separate worker)."""
        self.database, self.separate_worker, self.web_workers = database, separate_worker, web_workers
        self.inline_jobs = not separate_worker if inline_jobs is None else inline_jobs
        self.config_file = config_file
        # Periodic missed-delivery recovery is not part of any operation measured here.
        self.settings = {"REDELIVERY_INTERVAL_SECONDS": "0", **{k: str(v) for k, v in settings.items()}}
        self.bot = self.fake = self.web = self.worker = self.engine = self.arrivals = None
        self.database_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "Stack":
        from tests.harness.stack import Stack as BotStack

        # LOG_LEVEL info at least: gunicorn announces its port there.
        self.bot = BotStack.create(database=self.database, pg_admin_url=PG_ADMIN_URL, secret=SECRET,
                                   **{"LOG_LEVEL": "info", "BOT_INLINE_WORKERS": "1" if self.inline_jobs else "0",
                                      **self.settings})
        self.fake, self.engine, self.database_url = self.bot.fake, self.bot.engine, self.bot.database_url
        self.arrivals = Arrivals(self.fake)
        self.fake.add_installation(INSTALLATION, "octo-org", [REPO])
        self.fake.permissions[(REPO.lower(), WRITER)] = "write"
        if self.config_file is not None:
            self.fake.set_file(REPO, ".github/session-bot.yml", self.config_file)
        self.web = self.bot.start_web(workers=self.web_workers)
        if self.separate_worker:
            self.worker = self.bot.start_worker()
        self._install()
        return self

    def _install(self) -> None:
        """Deliver `installation.created` before any session exists: the bot indexes the repository, and
        its backfill finds nothing to mark as past."""
        from tests.fakegithub import payloads

        created = payloads.with_installation(payloads.example("installation", "created"), INSTALLATION)
        created["installation"]["account"] = self.fake.installations[INSTALLATION]["account"]
        created["repositories"] = [{k: self.fake.repositories[REPO.lower()][k]
                                    for k in ("id", "node_id", "name", "full_name", "private")}]
        self.set_up([("installation", created)])

    def stop(self) -> None:
        if self.arrivals:
            self.arrivals.stop()
        if self.bot is not None:
            self.bot.stop()

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        return self.bot.webhook_url

    def processes(self) -> dict[str, int]:
        """label → pid of every process serving the bot (gunicorn's workers are the arbiter's children)."""
        return self.bot.processes()

    def output(self) -> str:
        """What the bot's processes printed."""
        return self.bot.output()

    def rss(self) -> dict[str, float]:
        """label → VmRSS in MB; a worker's figure includes its children's (the log summariser's process)."""
        arbiter = self.web.proc.pid  # its children are the workers, listed on their own
        return {label: round(rss_mb(pid) + (0.0 if pid == arbiter else sum(map(rss_mb, children(pid)))), 1)
                for label, pid in self.processes().items()}

    # -- GitHub's side: sessions, comments -----------------------------------------------------------

    def deliver(self, event: str, payload: dict, delivery: str | None = None) -> int:
        return self.bot.deliver(event, payload, delivery=delivery).status_code

    def session(self, pr: int, run_id: int, *, finished: bool, archive: bytes | None = None) -> list[tuple]:
        """PR `pr` by Copilot with run `run_id` (running, or finished with `archive` as its log); the
        deliveries that tell the bot."""
        from tests.copilot_pr import add_session

        return add_session(self.fake, pr, run_id, finished=finished, archive=archive, installation=INSTALLATION,
                           repo=REPO)

    def comment(self, pr: int, body: str, *, login: str = WRITER) -> tuple[dict, dict]:
        """`login` comments `body` on PR `pr`: (the comment, the issue_comment.created payload)."""
        from tests.copilot_pr import comment_payload

        return comment_payload(self.fake, body, login=login, installation=INSTALLATION, repo=REPO, pr=pr)

    def background_bodies(self) -> list[tuple[str, dict]]:
        """What the background load sends: plain PR comments and ordinary CI jobs (no GitHub call)."""
        from tests import sessions_payloads as hooks

        _, chatter = self.comment(1, "Looks good to me, thanks!", login="octocat")
        ci = self.fake.add_run(REPO, 1, path=".github/workflows/ci.yml", event="push", head_branch="main",
                               name="CI", actor="octocat", triggering_actor="octocat")
        job = hooks.workflow_job("completed", self.fake, ci, INSTALLATION, job_id=11, conclusion="success")
        return [("issue_comment", chatter), ("workflow_job", job)]

    # -- waiting -------------------------------------------------------------------------------------

    def wait_request(self, since: int, matches, timeout: float = 60.0) -> tuple[int, object]:
        """The first request to the fake after index `since` that `matches`: (index, request)."""
        deadline = time.monotonic() + timeout
        checked = since
        while time.monotonic() < deadline:
            requests = self.fake.requests
            while checked < len(requests):
                if matches(requests[checked]):
                    return checked, requests[checked]
                checked += 1
            time.sleep(0.002)
        with self.engine.connect() as conn:
            jobs = conn.execute(text("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state")).all()
        raise TimeoutError(f"no matching request to the fake GitHub within {timeout:g} s; jobs {jobs}; bot output:\n"
                           + self.output()[-5000:])

    def pending(self, *, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ("stop.verify",),
                horizon: float = 20.0) -> int:
        """Jobs queued or running and due within `horizon` seconds (of the kinds in `include`, or all but
        `exclude` and the periodic ones)."""
        query = f"SELECT count(*) FROM jobs WHERE state IN ('queued', 'running') AND run_at < {time.time() + horizon}"
        exclude = (*exclude, *PERIODIC)
        if include:
            query += " AND kind IN (" + ", ".join(f"'{k}'" for k in include) + ")"
        elif exclude:
            query += " AND kind NOT IN (" + ", ".join(f"'{k}'" for k in exclude) + ")"
        with self.engine.connect() as conn:
            return conn.execute(text(query)).scalar()

    def settle(self, timeout: float = 120.0, **kinds) -> None:
        """Wait until no job is queued or running (jobs due later count: they are waited for)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending(**kinds) == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"jobs still pending after {timeout:g} s; bot output:\n" + self.output()[-5000:])

    def set_up(self, deliveries: list[tuple], timeout: float = 180.0) -> None:
        """Deliver set-up events and wait until the bot has done everything they cause."""
        for event, payload in deliveries:
            status = self.deliver(event, payload)
            if status != 202:
                raise RuntimeError(f"set-up delivery {event} answered {status}")
        self.settle(timeout)
