"""Keep the index from webhooks: agent runs, their jobs, Copilot pull requests, and PR timelines."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select

from bot.db import pull_requests, sessions
from bot.events import Context, on
from bot.shapes import ACCOUNT, FLAG, ID, INSTALLATION, NUMBER, REPOSITORY, TEXT, TIME, Maybe
from bot.github.cache import DatabaseETagStore
from bot.github.errors import GitHubError
from bot.jobs import Job, handles
from bot.sessions import model, store

log = logging.getLogger(__name__)

TIMELINE_PAGE = 100


# What the index reads of each delivery (bot.shapes): anything else fails at the door.
RUN = {"id": ID, "status": TEXT, "conclusion": Maybe(TEXT), "run_attempt": Maybe(NUMBER), "path": Maybe(TEXT),
       "created_at": Maybe(TIME), "updated_at": Maybe(TIME), "run_started_at": Maybe(TIME),
       "head_branch": Maybe(TEXT), "head_repository": Maybe({"id": ID}), "html_url": Maybe(TEXT),
       "actor": Maybe(ACCOUNT),
       "triggering_actor": Maybe(ACCOUNT), "pull_requests": Maybe([{"number": Maybe(NUMBER)}])}
JOB = {"run_id": ID, "status": TEXT, "run_attempt": Maybe(NUMBER), "head_branch": Maybe(TEXT),
       "created_at": Maybe(TIME), "started_at": Maybe(TIME), "completed_at": Maybe(TIME)}
PULL = {"id": ID, "number": NUMBER, "title": Maybe(TEXT), "state": Maybe(TEXT), "draft": Maybe(FLAG),
        "merged_at": Maybe(TIME), "user": Maybe(ACCOUNT), "assignees": Maybe([ACCOUNT]),
        "head": Maybe({"ref": Maybe(TEXT), "repo": Maybe({"id": ID})}), "base": Maybe({"repo": Maybe({"id": ID})}),
        "html_url": Maybe(TEXT), "created_at": Maybe(TIME),
        "updated_at": Maybe(TIME)}
ENVELOPE = {"installation": INSTALLATION, "repository": REPOSITORY}


class BudgetSpent(Exception):
    """A backfill's per-installation API budget is used up: stop quietly."""


@on("workflow_run", shape={**ENVELOPE, "workflow_run": RUN})
def track_run(ctx: Context) -> None:
    """Index a run of the agent's workflow (any action), then reconcile with its PR's timeline."""
    run = ctx.payload["workflow_run"]
    if not model.is_session_run(run, ctx.runtime.settings.session_path_prefixes):
        return
    row = _observe(ctx, run["id"], model.observe_run(run, ctx.runtime.settings.copilot_logins))
    request_timeline(ctx.runtime, row)


@on("workflow_job", shape={**ENVELOPE, "workflow_job": JOB})
def track_job(ctx: Context) -> None:
    """Index what a job says of its run; a job has no path, so an unknown run is fetched to classify it."""
    job = ctx.payload["workflow_job"]
    repository = ctx.payload["repository"]
    with ctx.runtime.engine.connect() as conn:
        known = conn.execute(select(sessions.c.id).where(sessions.c.repository_id == repository["id"],
                                                         sessions.c.run_id == job["run_id"])).first()
    if known is None:
        # Spares a GET for every other CI job. A session on a person's own branch is indexed from its
        # workflow_run deliveries instead; its jobs count once the run is known.
        if not (job.get("head_branch") or "").startswith(model.COPILOT_BRANCH_PREFIX):
            return
        run = ctx.github.get(f"/repos/{repository['full_name']}/actions/runs/{job['run_id']}")
        if not model.is_session_run(run, ctx.runtime.settings.session_path_prefixes):
            return
        _observe(ctx, run["id"], model.observe_run(run, ctx.runtime.settings.copilot_logins))
    row = _observe(ctx, job["run_id"], model.observe_job(job))
    request_timeline(ctx.runtime, row)


@on("pull_request", shape={**ENVELOPE, "pull_request": PULL})
def track_pull(ctx: Context) -> None:
    """Record a pull request the agent works on and link its sessions; other PRs are not tracked
    (a person's pull request is, once a session ran on its branch), nor are PRs from forks."""
    pull = ctx.payload["pull_request"]
    repository = ctx.payload["repository"]
    if not (model.is_copilot_pull(pull, ctx.runtime.settings.copilot_logins)
            or _known_pull(ctx.runtime.engine, repository["id"], pull["number"])):
        return
    store.observe_pull(ctx.runtime.engine, installation_id=ctx.installation_id, repository_id=repository["id"],
                       repository=repository["full_name"], pull=pull)
    _enqueue_timeline(ctx.runtime, ctx.installation_id, repository["id"], repository["full_name"],
                      number=pull["number"])


def _observe(ctx: Context, run_id: int, record: model.Record) -> Any:
    repository = ctx.payload["repository"]
    return store.observe(ctx.runtime.engine, installation_id=ctx.installation_id, repository_id=repository["id"],
                         repository=repository["full_name"], run_id=run_id, record=record)


def request_timeline(runtime, row, *, budgeted: bool = False) -> None:
    """Queue a timeline reconcile for a session: of its PR, or of the PR on its branch once found."""
    if row.pr_number is not None:
        _enqueue_timeline(runtime, row.installation_id, row.repository_id, row.repository, number=row.pr_number,
                          budgeted=budgeted)
    elif has_branch_to_search(row):
        _enqueue_timeline(runtime, row.installation_id, row.repository_id, row.repository, branch=row.head_branch,
                          budgeted=budgeted)


def has_branch_to_search(row) -> bool:
    """Whether a session's pull request can be looked up by its branch: any branch of the repository
    itself (the agent's `copilot/…`, or a person's own PR's branch a session was started on)."""
    return bool(row.head_branch) and row.head_repository_id == row.repository_id


def _enqueue_timeline(runtime, installation_id: int, repository_id: int, repository: str, *,
                      number: int | None = None, branch: str | None = None, budgeted: bool = False) -> None:
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
            owner = repository.split("/", 1)[0]
            found = github.get(f"/repos/{repository}/pulls", params={"head": f"{owner}:{branch}", "state": "all"})
            found = [p for p in found if model.head_repository_id(p) == repository_id]  # never a fork's
            if not found:
                return  # no pull request on the branch yet; its `opened` event will link the sessions
            pull = max(found, key=lambda p: p["number"])
        elif _needs_details(runtime.engine, repository_id, number):
            spend()
            pull = github.get(f"/repos/{repository}/pulls/{number}")
        else:
            pull = None
        if pull is not None:
            store.observe_pull(runtime.engine, installation_id=installation_id, repository_id=repository_id,
                               repository=repository, pull=pull)
            number = pull["number"]
        events = read_timeline(github, repository, number, DatabaseETagStore(runtime.engine), spend)
    except GitHubError as exc:
        if exc.status in (404, 410):
            return  # the repository or pull request is gone; nothing left to reconcile
        raise
    store.apply_timeline(runtime.engine, repository_id, number, events, runtime.settings.copilot_logins)


def _known_pull(engine, repository_id: int, number: int):
    """The pull request's row (a person's PR has one once an agent session ran on it), or None."""
    with engine.connect() as conn:
        return conn.execute(select(pull_requests.c.id).where(pull_requests.c.repository_id == repository_id,
                                                             pull_requests.c.number == number)).first()


def _needs_details(engine, repository_id: int, number: int) -> bool:
    found = _known_pull(engine, repository_id, number)
    return found is None or found.id is None


def read_timeline(github, repository: str, number: int, etags, spend=lambda: None) -> list[dict]:
    """Every event of an issue's timeline, page by page with ETags: an unchanged page costs a 304."""
    events, page = [], 1
    while True:
        spend()
        body, _ = github.get_conditional(f"/repos/{repository}/issues/{number}/timeline", store=etags,
                                         params={"per_page": TIMELINE_PAGE, "page": page})
        events += body
        if len(body) < TIMELINE_PAGE:
            return events
        page += 1


def take_budget(engine, installation_id: int) -> None:
    """Spend one call of the installation's backfill budget, or raise BudgetSpent."""
    if not store.spend_budget(engine, installation_id):
        raise BudgetSpent(installation_id)
