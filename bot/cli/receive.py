"""`flask --app app receive --event NAME payload.json`: one delivery through the whole bot, in this process.

As `probot receive` does: the payload is signed with the first WEBHOOK_SECRET and posted to the
intake like GitHub would, then the queue's due jobs run here, as a worker would run them, and every
call the bot makes to GitHub is printed, with the comments it writes. It talks to whatever
GITHUB_API_URL says: a real GitHub with the App's real settings, or the fake one `make demo` runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlsplit

import click
from flask import current_app
from sqlalchemy import func, select

from bot.db import jobs
from bot.job_runner import run_job
from bot.runtime import current_runtime

WORKER_ID = "receive"


@click.command("receive", help="Deliver a webhook payload (a JSON file) to this bot, signed as GitHub signs, run "
                               "the jobs it makes here, and print each call to GITHUB_API_URL and each comment "
                               "written. A real GitHub with real App settings, or the fake one of `make demo`.")
@click.option("--event", "-e", required=True, help="The X-GitHub-Event, e.g. issue_comment, workflow_run.")
@click.option("--wait", default=15.0, show_default=True,
              help="Also run jobs due within this many seconds (the status comment is coalesced for 10 s).")
@click.argument("payload", type=click.File("rb"))
def receive(event: str, wait: float, payload) -> None:
    runtime = current_runtime()
    settings = runtime.settings
    if settings.setup_mode:
        raise click.ClickException("receive needs the App's settings (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET); "
                                   "`make demo` runs the bot against a fake GitHub with them set")
    body = payload.read()
    guid = str(uuid.uuid4())
    signature = "sha256=" + hmac.new(settings.webhook_secrets[0].encode(), body, hashlib.sha256).hexdigest()
    answer = current_app.test_client().post(settings.webhook_path, data=body, headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": guid, "X-Hub-Signature-256": signature,
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/session-bot-receive"})
    click.echo(f"delivered {event} as {guid}: {answer.status} {answer.get_data(as_text=True).strip()}")
    if answer.status_code != 202:
        raise SystemExit(1)
    runtime.github.transport.watch(_print_call)
    _run_jobs(runtime, deadline=time.time() + wait)


def _run_jobs(runtime, *, deadline: float) -> None:
    """Run due jobs until none is due before `deadline`; say which are left for a running bot."""
    queue = runtime.queue
    while True:
        job = queue.claim(WORKER_ID)
        if job is not None:
            state = run_job(runtime, job)
            click.echo(f"ran {job.kind} job {job.id}: {state}")
            continue
        with runtime.engine.connect() as conn:
            due = conn.execute(select(func.min(jobs.c.run_at)).where(jobs.c.state == "queued")).scalar()
        if due is None or due > deadline:
            break
        time.sleep(max(0.0, due - time.time()) + 0.05)
    with runtime.engine.connect() as conn:
        left = conn.execute(select(jobs.c.kind, jobs.c.run_at).where(jobs.c.state == "queued")
                            .order_by(jobs.c.run_at).limit(10)).all()
    for kind, run_at in left:
        click.echo(f"left queued for a running bot: {kind} (due in {max(0.0, run_at - time.time()):.0f} s)")


def _print_call(response) -> None:
    """One line per GitHub call; a comment the bot writes, in full below it (control characters shown as �)."""
    request = response.request
    click.echo(f"  {request.method:<6} {urlsplit(request.url).path} → {response.status_code}")
    if request.method in ("POST", "PATCH") and "/comments" in request.url and request.body:
        try:
            text = json.loads(request.body).get("body", "")
        except (ValueError, AttributeError):
            return
        shown = "".join(c if c.isprintable() or c == "\n" else "\N{REPLACEMENT CHARACTER}" for c in text)
        for line in shown.splitlines():
            click.echo(f"      │ {line}")
