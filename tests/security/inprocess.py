"""The bot in this process: the real WSGI app and job handlers against the fake GitHub, no gunicorn.

Deliveries go through the real intake (signed); `settle()` runs every job the queue holds, due or
scheduled for later, until none is left.
"""

from __future__ import annotations

import copy
import json
import time

from sqlalchemy import select

from bot import db
from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.worker import run_job
from tests import sessions_payloads as hooks
from tests.fakegithub import APP_ID, payloads

SECRET = "in-process-secret"


class InProcessBot:
    def __init__(self, fake, app_key, database_url: str):
        self.fake = fake
        settings = Settings(database_url=database_url, app_id=APP_ID, private_key=app_key.pem,
                            webhook_secrets=(SECRET,), github_api_url=fake.url, github_retries=0,
                            github_write_interval=0.0, job_retry_base=0.01, log_format="text",
                            stop_grace_period=0.0, status_comment_interval=0.01, timeline_coalesce=0.01,
                            backfill_days=0)
        self.app = create_app(settings)
        self.runtime = runtime_of(self.app)
        self.runtime.queue.clock = lambda: time.time() + 86_400  # what is scheduled for later is due now
        self.engine = self.runtime.engine

    def deliver(self, event: str, payload: dict) -> int:
        body = json.dumps(payload).encode()
        response = self.app.test_client().post(self.runtime.settings.webhook_path, data=body,
                                               headers=payloads.headers(event, body, SECRET))
        return response.status_code

    def settle(self, deliveries=()) -> list[tuple[str, str]]:
        """Deliver each (event, payload), then run every job; (kind, new state) of each job run."""
        for event, payload in deliveries:
            assert self.deliver(event, payload) == 202
        ran = []
        while (job := self.runtime.queue.claim("test")) is not None:
            ran.append((job.kind, run_job(self.runtime, job)))
        return ran

    def dead_errors(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(db.jobs.c.last_error).where(db.jobs.c.state == "dead")).scalars())

    def dispose(self) -> None:
        self.runtime.dispose()


def open_session(bot: InProcessBot, installation: int, repo: str, pr: int, run_id: int) -> dict:
    """A Copilot PR `pr` in `repo` with a running session (its first), indexed by the bot."""
    fake = bot.fake
    if installation not in fake.installations:
        fake.add_installation(installation, repo.split("/")[0], [repo])
    t0 = float(int(time.time()) - 120)
    run = fake.add_run(repo, run_id, status="in_progress", conclusion=None, pull_requests=[pr], created_at=t0,
                       run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa",
                       head_branch=f"copilot/fix-{run_id}")
    pull = fake.add_pull(repo, pr, created_at=t0 + 20, head_branch=f"copilot/fix-{run_id}")
    bot.settle([("pull_request", hooks.pull_request("opened", fake, pull, installation)),
                ("workflow_run", hooks.workflow_run("in_progress", fake, run, installation))])
    return run


def comment_payload(fake, installation: int, repo: str, pr: int, body: str, *, login: str = "hubot",
                    claimed_repository: dict | None = None) -> tuple[dict, dict]:
    """`login` comments `body` on `repo`'s PR `pr`; the delivery names `installation` and
    `claimed_repository` (the commented repository unless given)."""
    made = fake.add_comment(repo, pr, body, login=login)
    payload = payloads.with_installation(payloads.example("issue_comment", "created"), installation)
    payload["repository"] = copy.deepcopy(claimed_repository or fake.repositories[repo.lower()])
    payload.pop("organization", None)
    payload["issue"].update(number=pr, pull_request={"url": f"{fake.url}/repos/{repo}/pulls/{pr}"})
    payload.update(comment=made, sender=made["user"])
    return made, payload


def replies_to(fake, repo: str, pr: int, made: dict) -> list[dict]:
    marker = f"<!-- session-bot:reply {made['id']}:"
    return [c for c in fake.comments_on(repo, pr) if c["body"].startswith(marker)]
