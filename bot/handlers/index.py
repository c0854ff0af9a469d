"""Webhooks into the session index: agent runs, their jobs and the pull requests the agent works on.

Each change queues a read of the pull request's timeline (bot/handlers/timeline.py), which says who
started each session.
"""

from __future__ import annotations

from typing import Any

from bot.events import Context, on
from bot.github import api
from bot.handlers.timeline import enqueue_timeline, request_timeline
from bot.sessions import model, queries, store
from bot.shapes import ACCOUNT, FLAG, ID, INSTALLATION, NUMBER, REPOSITORY, TEXT, TIME, Maybe

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
    if not queries.has_session(ctx.runtime.engine, repository["id"], job["run_id"]):
        # Spares a GET for every other CI job. A session on a person's own branch is indexed from its
        # workflow_run deliveries instead; its jobs count once the run is known.
        if not (job.get("head_branch") or "").startswith(model.COPILOT_BRANCH_PREFIX):
            return
        run = api.workflow_run(ctx.github, repository["full_name"], job["run_id"])
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
            or queries.pull_row(ctx.runtime.engine, repository["id"], pull["number"])):
        return
    store.observe_pull(ctx.runtime.engine, installation_id=ctx.installation_id, repository_id=repository["id"],
                       repository=repository["full_name"], pull=pull)
    enqueue_timeline(ctx.runtime, ctx.installation_id, repository["id"], repository["full_name"],
                     number=pull["number"])


def _observe(ctx: Context, run_id: int, record: model.Record) -> Any:
    repository = ctx.payload["repository"]
    return store.observe(ctx.runtime.engine, installation_id=ctx.installation_id, repository_id=repository["id"],
                         repository=repository["full_name"], run_id=run_id, record=record)


