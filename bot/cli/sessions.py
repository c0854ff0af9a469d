"""`flask --app app sessions …`: list the index, and reconcile one repository from the API."""

from __future__ import annotations

import json
import time

import click
from sqlalchemy import select

from bot.db import repositories
from bot.runtime import current_runtime
from bot.handlers import backfill
from bot.sessions import model, queries


@click.group("sessions", help="The Copilot agent session index.")
def sessions_group():
    pass


@sessions_group.command("list", help="List sessions, newest first.")
@click.option("--repo", "full_name", metavar="OWNER/NAME", help="Only this repository.")
@click.option("--state", type=click.Choice(model.STATES), help="Only sessions in this state.")
@click.option("--starter", metavar="LOGIN", help="Only sessions this person started.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--cursor", help="Continue after a previous page (printed at its end).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def sessions_list(full_name: str | None, state: str | None, starter: str | None, limit: int, cursor: str | None,
                  as_json: bool):
    engine = current_runtime().engine
    with engine.connect() as conn:
        filters = dict(state=state, starter=starter)
        if full_name:
            repository_id = conn.execute(select(repositories.c.id)
                                         .where(repositories.c.full_name == full_name)).scalar()
            # By id when the bot knows the repository (its sessions survive a rename), else by name.
            if repository_id:
                filters["repository_id"] = repository_id
            else:
                filters["repository"] = full_name
        try:
            page = queries.list_sessions(conn, limit=limit, cursor=cursor, **filters)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--cursor") from None
    for row in page.items:
        if as_json:
            click.echo(json.dumps(dict(row._mapping)))
        else:
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row.created_at))
            pull = f"#{row.pr_number} session {row.number}" if row.pr_number else "no PR yet"
            attempt = f" (attempt {row.run_attempt})" if row.run_attempt > 1 else ""
            click.echo(f"{when}Z  {row.repository}  {pull:<20} {row.state:<11} run {row.run_id}{attempt}  "
                       f"started by {row.starter or 'unknown'}{'  [backfilled]' if row.backfilled else ''}")
    if page.cursor:
        click.echo(json.dumps({"cursor": page.cursor}) if as_json else f"more: --cursor {page.cursor}")
    elif not page.items and not as_json:
        click.echo("no sessions")


@sessions_group.command("sync", help="Reconcile one repository's sessions from the GitHub API now.")
@click.argument("full_name", metavar="OWNER/NAME")
def sessions_sync(full_name: str):
    runtime = current_runtime()
    if runtime.github is None:
        raise click.ClickException("the bot has no GitHub App settings yet (setup mode)")
    try:
        result = backfill.sync(runtime, full_name)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{full_name}: {len(result.sessions)} session(s) reconciled")
