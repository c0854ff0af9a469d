"""A session index for the Agents page's tests: installations, repositories, sessions and pull requests,
written with the index's own functions (bot/sessions/store.py) on either database."""

from __future__ import annotations

import json
import time

from sqlalchemy import insert

from bot.db import installations, pull_commits, repositories, session_stops, session_summaries
from bot.sessions import model, store

T0 = 1_750_000_000.0
# Two installations: octo-org (two repositories) and mallory's, whose ids a viewer of octo-org might guess.
REPOS = {101: (1, "octo-org/app"), 102: (1, "octo-org/docs"), 201: (2, "mallory/secret")}


def install(engine) -> None:
    """The installations and their repositories (REPOS)."""
    with engine.begin() as conn:
        for installation_id, login in ((1, "octo-org"), (2, "mallory")):
            conn.execute(insert(installations).values(id=installation_id, account_login=login,
                                                      account_type="Organization", created_at=T0, updated_at=T0))
        for repository_id, (installation_id, name) in REPOS.items():
            conn.execute(insert(repositories).values(id=repository_id, installation_id=installation_id,
                                                     full_name=name, added_at=T0))


def session(engine, run_id: int, *, repository_id: int = 101, created: float | None = None, state: str = "completed",
            pr: int | None = None, starter: str | None = "monalisa", attempt: int = 1,
            elsewhere: tuple[int, str] | None = None):
    """A session of `repository_id` (of REPOS, or of installation and full name `elsewhere`) in `state`
    (the run's status and conclusion that give it), created `run_id` minutes after T0 unless `created`
    says; its row."""
    created = T0 + run_id * 60 if created is None else created
    status = state if state in model.RUNNING else "completed"
    conclusion = {"completed": "success", "failed": "failure"}.get(state, state) if status == "completed" else None
    installation_id, name = elsewhere or REPOS[repository_id]
    record = model.Record(run_attempt=attempt, status=status, conclusion=conclusion, run_updated_at=created + 30,
                          started_at=None if state == "queued" else created + 5, created_at=created,
                          head_branch=f"copilot/task-{pr or run_id}", head_repository_id=repository_id,
                          pr_number=pr, run_starter=starter, triggering_actor=starter or "Copilot",
                          html_url=f"https://github.com/{name}/actions/runs/{run_id}")
    return store.observe(engine, installation_id=installation_id, repository_id=repository_id, repository=name,
                         run_id=run_id, record=record)


def pull(engine, number: int, title: str, *, repository_id: int = 101) -> None:
    """Pull request `number` of the repository, titled `title`, on the branch `session(pr=number)` uses."""
    installation_id, name = REPOS[repository_id]
    store.observe_pull(engine, installation_id=installation_id, repository_id=repository_id, repository=name, pull={
        "id": 9000 + number, "number": number, "title": title, "state": "open", "draft": False,
        "user": {"login": "Copilot"}, "assignees": [],
        "head": {"ref": f"copilot/task-{number}", "repo": {"id": repository_id}},
        "html_url": f"https://github.com/{name}/pull/{number}", "created_at": "2025-06-15T10:00:00Z",
        "updated_at": "2025-06-15T10:00:00Z", "merged_at": None})


def stop(engine, row, *, by: str, via: str, outcome: str, at: float, reason: str | None = None) -> None:
    """A stop of the session's run, as the stop path records it."""
    with engine.begin() as conn:
        conn.execute(insert(session_stops).values(
            installation_id=row.installation_id, repository_id=row.repository_id, repository=row.repository,
            run_id=row.run_id, command_run_id=None if via == "page" else 1, via=via, stopped_by=by,
            requested_at=at, outcome=outcome, reason=reason, updated_at=at))


def summary(engine, row, data: dict) -> None:
    """The kept log summary of the session's current attempt."""
    with engine.begin() as conn:
        conn.execute(insert(session_summaries).values(repository_id=row.repository_id, run_id=row.run_id,
                                                      run_attempt=row.run_attempt, summary=json.dumps(data),
                                                      created_at=time.time()))


def commit(engine, row, sha: str, message: str, *, at: float, author: str = "Copilot") -> None:
    """A commit pushed to the session's pull request at `at`, as the timeline handler keeps it."""
    with engine.begin() as conn:
        conn.execute(insert(pull_commits).values(repository_id=row.repository_id, pr_number=row.pr_number, sha=sha,
                                                 message=message, author=author, committed_at=at, seen_at=at))
