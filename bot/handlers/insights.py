"""What the insights need beyond the index, gathered in jobs: never on a page's request path.

- A session's run completes (`workflow_run.completed`): its jobs, every attempt's, are read once
  (`insights.run_time`) and their time kept; the report falls back on the run's own start and end.
- Every INSIGHTS_INTERVAL_SECONDS (`insights`), the stored log summaries not classified yet get
  their cause (bot/sessions/failures.py); a repository where one died in setup gets a look at
  whether it has copilot-setup-steps.yml (`insights.setup_steps`), cached for every process.
"""

from __future__ import annotations

import logging
import time

from bot.caches.setup_steps import TTL, SetupStepsCache
from bot.events import Context, on
from bot.github import api
from bot.github.errors import GitHubError
from bot.handlers import status_comment
from bot.jobs import Job, handles
from bot.schedule import periodic
from bot.sessions import insights, queries
from bot.shapes import ID, INSTALLATION, NUMBER, REPOSITORY, Maybe

log = logging.getLogger(__name__)

# Batches of summaries classified per periodic run: the rest wait for the next one.
BATCHES_PER_RUN = 10


@on("workflow_run.completed", shape={"installation": INSTALLATION, "repository": REPOSITORY,
                                     "workflow_run": {"id": ID, "run_attempt": Maybe(NUMBER)}})
def read_run_time(ctx: Context) -> None:
    """Queue the read of a finished session's jobs (once per attempt: a re-run is read again)."""
    run, repository = ctx.payload["workflow_run"], ctx.payload["repository"]
    if not queries.has_session(ctx.runtime.engine, repository["id"], run["id"]):
        return
    attempt = run.get("run_attempt") or 1
    args = dict(installation_id=ctx.installation_id, repository_id=repository["id"],
                repository=repository["full_name"], run_id=run["id"], run_attempt=attempt)
    with ctx.runtime.engine.begin() as conn:
        ctx.runtime.queue.enqueue(conn, "insights.run_time", args,
                                  dedupe_key=f"insights.run_time:{repository['id']}:{run['id']}:{attempt}")


@handles("insights.run_time")
def run_time(runtime, job: Job) -> None:
    """Read a finished run's jobs and keep the time they ran."""
    args = job.args
    client = runtime.github.installation(args["installation_id"])
    try:
        jobs = list(api.run_jobs(client, args["repository"], args["run_id"]))
    except GitHubError as exc:
        if exc.status not in (404, 410):
            raise
        log.info("run %s of %s is gone; its time stays the run's own", args["run_id"], args["repository"])
        return
    insights.record_run_time(runtime.engine, repository_id=args["repository_id"], run_id=args["run_id"],
                             run_attempt=args["run_attempt"], jobs=jobs)
    with runtime.engine.connect() as conn:
        session = queries.session_of_run(conn, args["repository_id"], args["run_id"])
    if session is not None and session.pr_number is not None and not session.backfilled:
        # The status comment's run time was the run's own until now: show the jobs' instead.
        status_comment.request(runtime, installation_id=args["installation_id"], repository_id=args["repository_id"],
                               repository=args["repository"], pr_number=session.pr_number)


@periodic("insights", lambda settings: settings.insights_interval)
def classify(runtime, job: Job) -> None:
    """Classify the stored summaries not classified yet; look at the setup of repositories where one died in it."""
    found = []
    for _ in range(BATCHES_PER_RUN):
        batch = insights.classify_pending(runtime.engine)
        found += batch
        if len(batch) < insights.CLASSIFY_BATCH:
            break
    if found:
        log.info("classified %d stored log summary(ies)", len(found))
    if runtime.github is None:
        return  # setup mode: no App to ask GitHub with
    window = int(time.time() // TTL)
    with runtime.engine.begin() as conn:
        for installation_id, repository in sorted({(c.installation_id, c.repository) for c in found
                                                   if c.cause == "setup"}):
            runtime.queue.enqueue(conn, "insights.setup_steps", dict(installation_id=installation_id,
                                                                     repository=repository),
                                  dedupe_key=f"insights.setup_steps:{installation_id}:{repository.lower()}:{window}")


@handles("insights.setup_steps")
def setup_steps(runtime, job: Job) -> None:
    """Find out (or keep knowing, for the cache's ttl) whether a repository has copilot-setup-steps.yml."""
    client = runtime.github.installation(job.args["installation_id"])
    SetupStepsCache(runtime.engine, runtime.etags).present(client, job.args["repository"])
