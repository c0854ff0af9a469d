"""The whole bot in real processes: gunicorn serving app:app and, optionally, `python -m bot.worker`
processes, on a SQLite file or a PostgreSQL database, against the fake GitHub over sockets.

`Stack(fake, app_key, database_url)` runs the bot against a fake and a database the caller owns
(the test fixtures'); `Stack.create(...)` makes its own key, fake and database and removes them
at `stop()` (the benchmarks). Either way: `start_web()`, then `start_worker()` as many times as
wanted; `stop()` ends them all.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bot import db
from tests.fakegithub import APP_ID, payloads
from tests.fakegithub.server import FakeGitHub
from tests.harness import databases
from tests.harness.keys import AppKey, make_app_key
from tests.harness.processes import ROOT, Gunicorn, Worker, bot_env

SECRET = "stack-secret"


class Stack:
    """The bot's processes; `settings` are environment variables (NAME=value) on top of the bot's
    identity: its database, the App's id and key, the webhook secret and the fake's URL."""

    def __init__(self, fake: FakeGitHub, app_key: AppKey, database_url: str, *, secret: str = SECRET,
                 root: Path = ROOT, **settings):
        self.root = root  # the checkout the processes run from (gunicorn reads its gunicorn.conf.py)
        self.fake, self.app_key, self.database_url, self.secret = fake, app_key, database_url, secret
        self.env = bot_env(**{**settings, "APP_ID": fake.app_id, "PRIVATE_KEY": app_key.pem,
                              "WEBHOOK_SECRET": secret, "GITHUB_API_URL": fake.url, "DATABASE_URL": database_url})
        self.engine = db.make_engine(database_url)
        self.web: Gunicorn | None = None
        self.workers: list[Worker] = []
        self._cleanups: list = []

    @classmethod
    def create(cls, *, database: str = "sqlite", pg_admin_url: str = databases.ADMIN_URL,
               secret: str = SECRET, root: Path = ROOT, **settings) -> "Stack":
        """A stack with a key, a started fake GitHub and a fresh database of its own ("sqlite": a file in
        a temporary folder, also the processes' HOME; "pg": a database on `pg_admin_url`'s server), all
        removed at `stop()`. Processes are not started yet: set the fake up first if need be. `root`: the
        checkout they run from (the repository, or e.g. an older commit's worktree)."""
        key = make_app_key()
        tmp = Path(tempfile.mkdtemp(prefix="sb-stack-"))
        fake = FakeGitHub(app_id=APP_ID, public_key_pem=key.public_pem).start()
        cleanups = [fake.stop, lambda: shutil.rmtree(tmp, ignore_errors=True)]
        try:
            if database == "pg":
                url = databases.create_database("sb_stack_", pg_admin_url)
                cleanups.insert(0, lambda: databases.drop_database(url, pg_admin_url))
            else:
                url = f"sqlite:///{tmp}/bot.sqlite3"
            stack = cls(fake, key, url, secret=secret, root=root, HOME=str(tmp), **settings)
        except BaseException:
            for cleanup in cleanups:
                cleanup()
            raise
        stack.tmp = tmp
        stack._cleanups = cleanups
        return stack

    # -- processes ---------------------------------------------------------------------------------

    def start_web(self, workers: int = 2, **overrides) -> Gunicorn:
        """`gunicorn app:app` with `workers` workers (it migrates the database: AUTO_MIGRATE)."""
        self.web = Gunicorn({**self.env, **{k: str(v) for k, v in overrides.items()}}, workers=workers,
                            root=self.root)
        return self.web

    def start_worker(self, **overrides) -> Worker:
        """One more `python -m bot.worker` (the web process's own job threads stay as configured)."""
        worker = Worker({**self.env, "BOT_INLINE_WORKERS": "0", **{k: str(v) for k, v in overrides.items()}},
                        self.root)
        self.workers.append(worker)
        return worker

    def processes(self) -> dict[str, int]:
        """label → pid of every bot process: the arbiter, its workers, the job workers."""
        found = {"gunicorn arbiter": self.web.proc.pid}
        found.update({f"gunicorn worker {pid}": pid for pid in self.web.worker_pids()})  # a new one: a new label
        found.update({f"bot.worker {n + 1}": w.proc.pid for n, w in enumerate(self.workers)})
        return found

    def output(self) -> str:
        """What the bot's processes printed."""
        return "\n".join(p.text() for p in [self.web, *self.workers] if p)

    def stop(self) -> None:
        for process in [*self.workers, self.web]:
            if process:
                process.stop()
        self.engine.dispose()
        for cleanup in self._cleanups:
            cleanup()
        self._cleanups = []

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- GitHub's side and waiting ----------------------------------------------------------------

    @property
    def webhook_url(self) -> str:
        return self.web.url + "/api/github/webhooks"

    def deliver(self, event: str, payload: dict, *, delivery: str | None = None):
        """Deliver `payload` as GitHub does; the response."""
        return payloads.deliver(self.webhook_url, event, payload, self.secret, delivery=delivery)

    def count(self, table, *where) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()

    def wait_until(self, condition, timeout: float = 30.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; bot output:\n{self.output()}")

    def jobs_settled(self) -> bool:
        """No job is running or due within seconds (periodic jobs wait minutes for their slot)."""
        due = db.jobs.c.run_at <= time.time() + 5
        return self.count(db.jobs, (db.jobs.c.state == "running") | ((db.jobs.c.state == "queued") & due)) == 0
