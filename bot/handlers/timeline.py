"""Pull-request timelines into the session index: who started each session, and how the agent said it ended.

A session's run names no person when Copilot started it from an issue or a comment; the pull
request's timeline does (`copilot_work_started`). Reads are coalesced per pull request and window,
read with ETags, and, for a backfill, paid from the installation's budget.
"""

from __future__ import annotations

import logging
import time

from bot.github import api
from bot.github.errors import GitHubError
from bot.jobs import Job, handles
from bot.sessions import model, queries, store

log = logging.getLogger(__name__)


class BudgetSpent(Exception):
    """A backfill's per-installation API budget is used up: stop quietly."""


def request_timeline(runtime, row, *, budgeted: bool = False) -> None:
    """Queue a timeline reconcile for a session: of its PR, or of the PR on its branch once found."""
    if row.pr_number is not None:
        enqueue_timeline(runtime, row.installation_id, row.repository_id, row.repository, number=row.pr_number,
                         budgeted=budgeted)
    elif model.has_branch_to_search(row):
        enqueue_timeline(runtime, row.installation_id, row.repository_id, row.repository, branch=row.head_branch,
                         budgeted=budgeted)


def enqueue_timeline(runtime, installation_id: int, repository_id: int, repository: str, *,
                     number: int | None = None, branch: str | None = None, budgeted: bool = False) -> None:
    """Queue the read of one pull request's timeline (by number, or by its branch)."""
    # Timeline reads for one pull request are gathered into one job per window: an agent pushing
    # commits sends a burst of deliveries, and one read after the burst sees them all.
    window = runtime.settings.timeline_coalesce
    bucket = int(time.time() // window)
    args = dict(installation_id=installation_id, repository_id=repository_id, repository=repository,
                number=number, branch=branch, budgeted=budgeted)
    with runtime.engine.begin() as conn:
        runtime.queue.enqueue(conn, "sessions.timeline", args, run_at=(bucket + 1) * window,
                              dedupe_key=f"sessions.timeline:{repository_id}:{number or branch}:{bucket}"[:255])
    runtime.queue.wake()


@handles("sessions.timeline")
def reconcile_timeline(runtime, job: Job) -> None:
    """Read a pull request (found by branch if need be) and its timeline; attribute starters."""
    try:
        reconcile(runtime, **job.args)
    except BudgetSpent:
        log.info("backfill budget of installation %s spent; %s left as is", job.args["installation_id"],
                 job.args["repository"])


def reconcile(runtime, *, installation_id: int, repository_id: int, repository: str, number: int | None = None,
              branch: str | None = None, budgeted: bool = False) -> None:
    """Bring one pull request's sessions up to date with GitHub (network first, then one short write)."""
    github = runtime.github.installation(installation_id)
    spend = (lambda: take_budget(runtime.engine, installation_id)) if budgeted else (lambda: None)
    try:
        if number is None:
            spend()
            found = [p for p in api.pull_requests_from(github, repository, branch)
                     if model.head_repository_id(p) == repository_id]  # never a fork's
            if not found:
                return  # no pull request on the branch yet; its `opened` event will link the sessions
            pull = max(found, key=lambda p: p["number"])
        elif _needs_details(runtime.engine, repository_id, number):
            spend()
            pull = api.pull_request(github, repository, number)
        else:
            pull = None
        if pull is not None:
            store.observe_pull(runtime.engine, installation_id=installation_id, repository_id=repository_id,
                               repository=repository, pull=pull)
            number = pull["number"]
        events = api.timeline(github, repository, number, runtime.etags, spend)
    except GitHubError as exc:
        if exc.status in (404, 410):
            return  # the repository or pull request is gone; nothing left to reconcile
        raise
    store.apply_timeline(runtime.engine, repository_id, number, events, runtime.settings.copilot_logins)


def _needs_details(engine, repository_id: int, number: int) -> bool:
    found = queries.pull_row(engine, repository_id, number)
    return found is None or found.id is None


def take_budget(engine, installation_id: int) -> None:
    """Spend one call of the installation's backfill budget, or raise BudgetSpent."""
    if not store.spend_budget(engine, installation_id):
        raise BudgetSpent(installation_id)
