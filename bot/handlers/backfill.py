"""Backfill past agent runs when the App is installed or given repositories (bot/handlers/installations.py
forgets them on removal, once GitHub confirms it).

Backfilled sessions are flagged so nothing ever comments on them. The backfill runs inside the
`installation` delivery, after bot.handlers.installations has listed the repositories; all of it (runs,
then PR timelines queued as jobs) shares one budget of GitHub calls per installation
(BACKFILL_API_BUDGET), granted at most once a day per installation, so neither a retried delivery
nor a replayed one (the same signed body under a new delivery id) can spend it twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select

from bot.db import repositories
from bot.events import Context, on
from bot.github import api
from bot.github.errors import GitHubError
from bot.handlers.timeline import BudgetSpent, reconcile, request_timeline, take_budget
from bot.sessions import model, store

log = logging.getLogger(__name__)


@on("installation.created", "installation.unsuspend")
def backfill_installation(ctx: Context) -> None:
    """Backfill every repository the installation covers (as bot.handlers.installations just listed them)."""
    if ctx.payload["installation"].get("suspended_at"):
        return
    with ctx.runtime.engine.connect() as conn:
        repos = conn.execute(select(repositories.c.id, repositories.c.full_name)
                             .where(repositories.c.installation_id == ctx.installation_id)).all()
    _backfill_all(ctx, [{"id": r.id, "full_name": r.full_name} for r in repos])


@on("installation_repositories.added")
def backfill_added(ctx: Context) -> None:
    """Backfill the repositories just added."""
    _backfill_all(ctx, ctx.payload.get("repositories_added") or [])


def _backfill_all(ctx: Context, repos: list[dict]) -> None:
    settings = ctx.runtime.settings
    if not repos or settings.backfill_days == 0 or settings.backfill_max_runs == 0:
        return
    store.grant_budget(ctx.runtime.engine, ctx.installation_id, settings.backfill_api_budget)
    for repo in repos:
        result = backfill(ctx.runtime, installation_id=ctx.installation_id, repository_id=repo["id"],
                          repository=repo["full_name"], budgeted=True)
        for row in _one_per_pull(result.sessions):
            request_timeline(ctx.runtime, row, budgeted=True)
        if result.sessions:
            log.info("backfilled %d session(s) of %s", len(result.sessions), repo["full_name"])
        if result.budget_spent:
            log.info("backfill budget of installation %s spent at %s", ctx.installation_id, repo["full_name"])
            return


@dataclass
class Backfill:
    """What a backfill indexed, and whether it stopped for want of budget."""

    sessions: list
    budget_spent: bool = False


def backfill(runtime, *, installation_id: int, repository_id: int, repository: str,
             budgeted: bool) -> Backfill:
    """List the repository's agent runs of the last BACKFILL_DAYS (at most BACKFILL_MAX_RUNS) and index them."""
    settings = runtime.settings
    since = time.time() - settings.backfill_days * 86400
    github = runtime.github.installation(installation_id)
    params = {"event": "dynamic", "created": ">=" + time.strftime("%Y-%m-%d", time.gmtime(since))}
    spend = (lambda: take_budget(runtime.engine, installation_id)) if budgeted else (lambda: None)
    runs, spent = [], False
    try:
        for page in api.run_pages(github, repository, params, spend):
            runs += [r for r in page if model.is_session_run(r, settings.session_path_prefixes)
                     and (model.timestamp(r["created_at"]) or 0) >= since]
            if len(runs) >= settings.backfill_max_runs:
                break
    except BudgetSpent:
        spent = True
    except GitHubError as exc:
        if exc.status not in (404, 410):
            raise
        log.info("%s is gone; nothing to backfill", repository)
    # The API lists newest first; indexing oldest first numbers a pull request's sessions in start order.
    oldest_first = sorted(runs[:settings.backfill_max_runs], key=lambda r: (r["created_at"], r["id"]))
    rows = [store.observe(runtime.engine, installation_id=installation_id, repository_id=repository_id,
                          repository=repository, run_id=run["id"], backfilled=True,
                          record=model.observe_run(run, settings.copilot_logins))
            for run in oldest_first]
    return Backfill(rows, spent)


def _one_per_pull(rows: list) -> list:
    """One session per pull request (or per agent branch not linked yet): one timeline read each."""
    seen: dict = {}
    for row in rows:
        seen.setdefault(row.pr_number or row.head_branch, row)
    return list(seen.values())


def sync(runtime, full_name: str) -> Backfill:
    """Reconcile one repository from the API now (the `sessions sync` command): runs, PRs, timelines."""
    with runtime.engine.connect() as conn:
        repo = conn.execute(select(repositories).where(repositories.c.full_name == full_name)).first()
    if repo is None:
        raise LookupError(f"{full_name} is not a repository of any installation the bot knows")
    result = backfill(runtime, installation_id=repo.installation_id, repository_id=repo.id,
                      repository=repo.full_name, budgeted=False)
    for row in _one_per_pull(result.sessions):
        if row.pr_number or model.has_branch_to_search(row):
            reconcile(runtime, installation_id=repo.installation_id, repository_id=repo.id,
                      repository=repo.full_name, number=row.pr_number,
                      branch=None if row.pr_number else row.head_branch)
    return result
