"""A stop asked outside a comment: the Agents page's Stop button and `POST /api/sessions/{id}/stop`.

The same rule as `/session stop` (its policy, chosen by the repository's config) and the same audit
record (`session_stops`, `via="page"`). The request is recorded with the job that sends the cancel
in one transaction, so a GitHub outage delays the cancel (the job retries) and never loses it; a
second press while the first is on its way gets the first back instead of a second cancel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from bot.commands import session_text
from bot.commands.invoke import asker_for
from bot.commands.stop_checks import OPERATOR, stop_awaiting
from bot.commands.stop_sessions import POLICY, send_cancel, stop_reason
from bot.db import session_stops
from bot.jobs import URGENT, Job, handles

__all__ = ["BOT", "OPERATOR", "REASONS", "AlreadyFinished", "StopRefused", "StopRequest", "may_stop", "reason_from",
           "refusal", "request_stop"]

BOT = "session-bot"  # who `stopped_by` names for the watchdog's automatic stop (via="watchdog")
PENDING = ("sending", "cancel_requested")
# The reasons the page offers to choose from (free text may say anything else).
REASONS = ("wrong direction", "mistake in the task", "no longer needed")


class StopRefused(Exception):
    """The person may not stop this session; the message says who may."""


class AlreadyFinished(Exception):
    """The session is not running: there is nothing to stop."""


@dataclass(frozen=True)
class StopRequest:
    """A stop on record: its id, who asked, and what became of it so far (`session_stops.outcome`)."""

    id: int
    stopped_by: str
    outcome: str
    requested_at: float


def may_stop(runtime, session, login: str | None) -> bool:
    """Whether `login` (None: the operator, who may stop anything) may stop `session`, by the rule
    `/session stop` applies in its repository. Asks GitHub (cached) for their role when it decides."""
    if login is None:
        return True
    client = runtime.github.installation(session.installation_id)
    config, _problem, _sha = runtime.repo_configs.get(client, session.repository)
    asker = asker_for(runtime, client, config, installation_id=session.installation_id,
                      repository=session.repository, login=login)
    return POLICY.for_repository(config).allows(asker, session.starter)


def refusal(runtime, session) -> str:
    """Why a person may not stop `session`: who may, in its repository."""
    client = runtime.github.installation(session.installation_id)
    config, _problem, _sha = runtime.repo_configs.get(client, session.repository)
    return f"Only {POLICY.for_repository(config).refusal_who} may stop a session."


def reason_from(choice: str | None, text: str | None) -> str | None:
    """The page's reason: one of REASONS chosen (anything else is ignored), free text, or both
    ("wrong direction: …"); redacted, on one line and clipped as every stop's reason."""
    chosen = choice if choice in REASONS else None
    return stop_reason(": ".join(part for part in (chosen, text) if part and part.strip()))


def request_stop(runtime, session, *, login: str | None, via: str = "page", reason: str | None = None) -> StopRequest:
    """Record a stop of `session` by `login` (None: the operator, or the bot itself when `via` is
    "watchdog"), with its `reason` (redacted, made one line and clipped here), and queue its cancel;
    raises AlreadyFinished or StopRefused. A stop already on its way is returned instead of a new one."""
    reason = stop_reason(reason)
    if session.state not in session_text.RUNNING:
        raise AlreadyFinished(f"session {session.number or session.id} already finished: "
                              f"{session_text.STATES.get(session.state, ('', session.state))[1]}.")
    if not may_stop(runtime, session, login):
        raise StopRefused(refusal(runtime, session))
    now = time.time()
    with runtime.engine.begin() as conn:
        pending = conn.execute(select(session_stops).where(
            session_stops.c.repository_id == session.repository_id, session_stops.c.run_id == session.run_id,
            session_stops.c.outcome.in_(PENDING)).order_by(session_stops.c.id).limit(1)).first()
        if pending is not None:
            return _request(pending)
        stop_id = conn.execute(session_stops.insert().values(
            installation_id=session.installation_id, repository_id=session.repository_id, run_id=session.run_id,
            repository=session.repository, command_run_id=None, via=via,
            stopped_by=login or (BOT if via == "watchdog" else OPERATOR), reason=reason, requested_at=now, outcome="sending", updated_at=now).returning(session_stops.c.id)).scalar_one()
        runtime.queue.enqueue(conn, "stop.send", {"stop": stop_id}, dedupe_key=f"stop.send:{stop_id}",
                              priority=URGENT)
        row = conn.execute(select(session_stops).where(session_stops.c.id == stop_id)).one()
    runtime.queue.wake()
    return _request(row)


def _request(row) -> StopRequest:
    return StopRequest(id=row.id, stopped_by=row.stopped_by, outcome=row.outcome, requested_at=row.requested_at)


@handles("stop.send")
def send_page_stop(runtime, job: Job) -> None:
    """Send the cancel of a stop asked on the page; a retry checks the run before cancelling again."""
    if (stop_row := stop_awaiting(runtime, job.args["stop"], "sending")) is None:
        return
    client = runtime.github.installation(stop_row.installation_id)
    send_cancel(runtime, client, stop_row, retry=job.attempts > 1)
