"""The bot in this process: the real WSGI app and the real queue against the fake GitHub, no gunicorn.

Deliveries go through the real intake, signed (`deliver`), or as raw bytes with exactly the headers
a test chooses (`post`). `drain()` and `settle()` run jobs here with `bot.worker.run_job`; by default
what is scheduled for later is due at once. `serve()` puts the app on a real socket, for the fake
GitHub to deliver to.
"""

from __future__ import annotations

import io
import json
import threading
import time

from sqlalchemy import select
from werkzeug.serving import make_server

from bot import db
from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.worker import run_job
from tests import sessions_payloads as hooks
from tests.fakegithub import payloads

SECRET = "in-process-secret"

# Nothing waits: no retry of GitHub's calls, no pacing, short coalescing windows, no backfill.
QUICK = dict(github_retries=0, github_write_interval=0.0, job_retry_base=0.01, log_format="text",
             stop_grace_period=0.0, status_comment_interval=0.01, timeline_coalesce=0.01, backfill_days=0)


class InProcessBot:
    """`settings` (any Settings field) override QUICK, but not the bot's identity: its database, the
    App's id and key, the webhook secret and the fake's URL. `all_due=False` keeps the queue's clock."""

    def __init__(self, fake, app_key, database_url: str, /, *, secret: str = SECRET, all_due: bool = True,
                 **settings):
        self.fake, self.secret = fake, secret
        identity = dict(database_url=database_url, app_id=fake.app_id, private_key=app_key.pem,
                        webhook_secrets=(secret,), github_api_url=fake.url)
        self.app = create_app(Settings(**{**QUICK, **settings, **identity}))
        self.runtime = runtime_of(self.app)
        if all_due:  # what is scheduled for later (timeline reads, status edits, stop checks) is due now
            self.runtime.queue.clock = lambda: time.time() + 86_400
        self.engine = self.runtime.engine
        self._server = None

    # -- deliveries --------------------------------------------------------------------------------

    def post(self, body: bytes, headers: dict[str, str | None]) -> tuple[int, bytes]:
        """POST `body` with exactly `headers` (None: left out) straight into the WSGI app, as a WSGI
        server passes them (any latin-1 text); (status, answer)."""
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": self.runtime.settings.webhook_path, "SERVER_NAME": "inprocess",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in headers.items():
            if value is not None:
                key = name.upper().replace("-", "_")
                environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        answers = []
        chunks = self.app.wsgi_app(environ, lambda status, _headers: answers.append(status))
        return int(answers[0].split(" ", 1)[0]), b"".join(chunks)

    def deliver(self, event: str, payload: dict, *, delivery: str | None = None) -> int:
        """Deliver `payload` as GitHub does (signed, GitHub's headers); the answer's status."""
        body = json.dumps(payload).encode()
        return self.post(body, payloads.headers(event, body, self.secret, delivery=delivery))[0]

    def serve(self) -> str:
        """Serve the app on 127.0.0.1 (a thread) until `dispose()`; its webhook URL."""
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}{self.runtime.settings.webhook_path}"

    # -- jobs --------------------------------------------------------------------------------------

    def drain(self, limit: int = 1000) -> list[tuple[str, str, str | None]]:
        """Run every due job once, until none is left; (kind, new state, last error) of each."""
        ran = []
        for _ in range(limit):
            job = self.runtime.queue.claim("inprocess")
            if job is None:
                return ran
            state = run_job(self.runtime, job)
            with self.engine.connect() as conn:
                error = conn.execute(select(db.jobs.c.last_error).where(db.jobs.c.id == job.id)).scalar()
            ran.append((job.kind, state, error))
        raise AssertionError(f"jobs keep coming: {ran[-5:]}")

    def settle(self, deliveries=()) -> list[tuple[str, str]]:
        """Deliver each (event, payload), then run every job; (kind, new state) of each job run."""
        for event, payload in deliveries:
            assert self.deliver(event, payload) == 202
        return [(kind, state) for kind, state, _ in self.drain()]

    def dead_errors(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(db.jobs.c.last_error).where(db.jobs.c.state == "dead")).scalars())

    def open_session(self, installation: int, repo: str, pr: int, run_id: int) -> dict:
        """A Copilot PR `pr` in `repo` with a running session (its first), indexed by the bot; the run."""
        fake = self.fake
        if installation not in fake.installations:
            fake.add_installation(installation, repo.split("/")[0], [repo])
        t0 = float(int(time.time()) - 120)
        run = fake.add_run(repo, run_id, status="in_progress", conclusion=None, pull_requests=[pr], created_at=t0,
                           run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa",
                           head_branch=f"copilot/fix-{run_id}")
        pull = fake.add_pull(repo, pr, created_at=t0 + 20, head_branch=f"copilot/fix-{run_id}")
        self.settle([("pull_request", hooks.pull_request("opened", fake, pull, installation)),
                     ("workflow_run", hooks.workflow_run("in_progress", fake, run, installation))])
        return run

    def session_row(self, run_id: int):
        """The index's row of the session of run `run_id`."""
        with self.engine.connect() as conn:
            return conn.execute(select(db.sessions).where(db.sessions.c.run_id == run_id)).one()

    def dispose(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        self.runtime.dispose()
