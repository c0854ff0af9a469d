"""A pull request with a running Copilot session, and comments on it: the scene of most end-to-end
command tests (tests/integration, tests/faults)."""

from __future__ import annotations

import copy
import time

from bot import db
from tests import sessions_payloads as hooks
from tests.fakegithub import payloads

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151


def open_session(bot, fake, *, permissions: dict | None = None, **web_settings) -> dict:
    """PR #7, opened by Copilot for monalisa, with session 1 (run 5151) running; starts the web
    process with `web_settings` and returns the run. The installation has the manifest's
    permissions, or `permissions`."""
    fake.add_installation(INSTALLATION, "octo-org", [REPO], permissions=permissions)
    t0 = float(int(time.time()) - 120)
    run = fake.add_run(REPO, RUN, status="in_progress", conclusion=None, pull_requests=[PR], created_at=t0,
                       run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa")
    pull = fake.add_pull(REPO, PR, created_at=t0 + 20)
    bot.start_web(**web_settings)
    settle(bot, [("pull_request", hooks.pull_request("opened", fake, pull, INSTALLATION)),
                 ("workflow_run", hooks.workflow_run("in_progress", fake, run, INSTALLATION))])
    return run


def add_session(fake, pr: int, run_id: int, *, finished: bool, archive: bytes | None = None,
                installation: int = INSTALLATION, repo: str = REPO) -> list[tuple[str, dict]]:
    """PR `pr` by Copilot for monalisa with run `run_id` (running, or finished with `archive` as its
    log) at the fake; the deliveries that tell the bot."""
    t0 = float(int(time.time()) - 600)
    run = fake.add_run(repo, run_id, status="completed" if finished else "in_progress",
                       conclusion="success" if finished else None, pull_requests=[pr], created_at=t0,
                       run_started_at=t0 + 1, updated_at=t0 + (300 if finished else 5),
                       triggering_actor="monalisa", head_branch=f"copilot/fix-{pr}")
    pull = fake.add_pull(repo, pr, created_at=t0 + 20, head_branch=f"copilot/fix-{pr}")
    if archive is not None:
        fake.set_run_log(repo, run_id, archive)
    return [("pull_request", hooks.pull_request("opened", fake, pull, installation)),
            ("workflow_run", hooks.workflow_run("completed" if finished else "in_progress", fake, run, installation))]


def settle(bot, deliveries) -> None:
    """Deliver each (event, payload) and wait until every delivery and job has been handled."""
    for event, payload in deliveries:
        assert bot.deliver(event, payload).status_code == 202
    bot.wait_until(lambda: bot.count(db.deliveries, db.deliveries.c.outcome == "queued") == 0 and bot.jobs_settled(),
                   what="deliveries and their jobs")


def comment_payload(fake, body: str, *, login: str = "hubot", user_type: str = "User",
                    installation: int = INSTALLATION, repo: str = REPO, pr: int = PR,
                    claimed_repository: dict | None = None) -> tuple[dict, dict]:
    """`login` comments `body` on `repo`'s PR `pr` at the fake; returns (the comment, its webhook
    payload, naming `installation` and `claimed_repository`: the commented repository unless given)."""
    made = fake.add_comment(repo, pr, body, login=login, user_type=user_type)
    payload = payloads.with_installation(payloads.example("issue_comment", "created"), installation)
    payload["repository"] = copy.deepcopy(claimed_repository or fake.repositories[repo.lower()])
    payload.pop("organization", None)
    payload["issue"].update(number=pr, pull_request={"url": f"{fake.url}/repos/{repo}/pulls/{pr}"})
    payload.update(comment=made, sender=made["user"])
    return made, payload


def comment(bot, fake, body: str, *, login: str = "hubot", user_type: str = "User", delivery: str | None = None):
    """`login` comments `body` on the PR; the delivery reaches the bot and its jobs finish."""
    made, payload = comment_payload(fake, body, login=login, user_type=user_type)
    assert bot.deliver("issue_comment", payload, delivery=delivery).status_code == 202
    bot.wait_until(bot.jobs_settled, what="the command's jobs")
    return made, payload


def replies(fake, command: dict, *, repo: str = REPO, pr: int = PR) -> list[dict]:
    """The bot's replies to the comment `command`."""
    marker = f"<!-- session-bot:reply {command['id']}:"
    return [c for c in fake.comments_on(repo, pr) if c["body"].startswith(marker)]
