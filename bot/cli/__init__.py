"""Operator commands under `flask --app app …`: database migrations, the job queue, sessions, deliveries."""

from __future__ import annotations

import json
import time

import click
from flask import Flask
from sqlalchemy import select

from bot import db
from bot.db import jobs
from bot.cli.check import check
from bot.cli.deliveries import deliveries_group
from bot.cli.receive import receive
from bot.runtime import current_runtime
from bot.cli.sessions import sessions_group
from bot.cli import report  # noqa: E402,F401  (`sessions report`, on the sessions group)


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(db_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(sessions_group)
    app.cli.add_command(deliveries_group)
    app.cli.add_command(check)
    app.cli.add_command(receive)


@click.group("db", help="Database schema.")
def db_group():
    pass


@db_group.command("upgrade", help="Apply pending migrations (safe to run from several hosts at once).")
def db_upgrade():
    runtime = current_runtime()
    db.upgrade(runtime.engine)
    click.echo(f"database at migration {db.current_revision(runtime.engine)}")


@db_group.command("current", help="Show the database's migration and the newest one.")
def db_current():
    runtime = current_runtime()
    click.echo(f"current {db.current_revision(runtime.engine)}, newest {db.head_revision()}")


@click.group("jobs", help="The job queue.")
def jobs_group():
    pass


@jobs_group.command("list", help="List jobs (dead ones by default).")
@click.option("--state", default="dead", type=click.Choice(["queued", "running", "done", "dead"]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def jobs_list(state: str, limit: int, as_json: bool):
    with current_runtime().engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.kind, jobs.c.attempts, jobs.c.run_at, jobs.c.last_error)
            .where(jobs.c.state == state).order_by(jobs.c.id.desc()).limit(limit)
        ).all()
    for row in rows:
        if as_json:
            click.echo(json.dumps(dict(row._mapping)))
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row.run_at))
            click.echo(f"{row.id:>8}  {row.kind:<12} attempts={row.attempts}  {when}Z  {row.last_error or ''}")
    if not rows and not as_json:
        click.echo(f"no {state} jobs")


@jobs_group.command("retry", help="Queue dead jobs again with fresh attempts.")
@click.argument("job_ids", nargs=-1, type=int, required=True)
def jobs_retry(job_ids: tuple[int, ...]):
    queue = current_runtime().queue
    missing = []
    for job_id in job_ids:
        before = queue.retry(job_id)
        if before is None:
            missing.append(job_id)
            click.echo(f"job {job_id}: no such job (`flask --app app jobs list --state dead` lists the dead ones)",
                       err=True)
        else:
            click.echo(f"job {job_id}: {'queued again' if before == 'dead' else f'{before}, not dead: left alone'}")
    if missing:
        raise SystemExit(1)
