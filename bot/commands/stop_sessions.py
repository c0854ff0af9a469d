"""`/session stop [N|all] [reason…]`: cancel a session's run, decided by repository permission.

Who may stop: people with write access (or more), and the person who started the session while
they can still read the repository (on a public repository, where everyone can read, while they
can triage or more); the decision is on the commenter (the comment's sender).
Every stop is recorded, with its reason, before the cancel is sent, so a retry after an ambiguous
failure checks the run's state instead of cancelling blindly; `stop.verify` (bot/commands/stop_checks.py)
then makes sure the session ended. A number right after `stop` names the session: `/session stop 2
wrong direction` stops session 2, `/session stop wrong direction` the latest running one.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.commands import policies, session_text
from bot.commands.arguments import Reason, Session
from bot.commands.registry import command
from bot.commands.stop_checks import conclude, record, record_now
from bot.db import dialect_insert, session_stops
from bot.github import api
from bot.github.errors import GitHubError
from bot.inert import one_line
from bot.redact import clipped

REASON_LIMIT = 300  # characters of a stop's reason kept (`session_stops.reason`)

# The repository's config picks who may stop: write access (the default) or the people and teams it lists.
POLICY = policies.ChosenByConfig(
    policies.WRITERS_OR_STARTER,
    lambda config: policies.WRITERS_OR_STARTER if config.stop_allow == "write"
    else policies.listed_or_starter(config.stop_users, config.stop_teams))


@command("stop", arguments=(Session(running=True, every="all", acts_on=session_text.RUNNING), Reason()),
         policy=POLICY, done="stopped",
         summary="Stop the latest running session, session `N`, or `all` running sessions; "
                 "the rest of the line is the reason, shown with the stop.")
def stop(invocation, args) -> str:
    """Cancel the sessions the asker may stop (the policy has run); say what became of each, and why."""
    reason = stop_reason(args.reason)
    lines = []
    for session in args.sessions:
        if session.state not in session_text.RUNNING:
            lines.append(f"- session {session.number} already finished: {session_text.state(session.state)}.")
        else:
            lines.append(f"- session {session.number}: {_cancel(invocation, session, reason)}")
    if args.refused:
        lines.append(f"- {args.refused}")
    why = [f"\nreason: “{one_line(reason, REASON_LIMIT)}”"] if reason else []
    return "\n".join(["stop:", *lines, *why])


def stop_reason(text: str | None) -> str | None:
    """A stop's reason as it is kept and shown: secrets redacted, on one line, clipped; None when empty."""
    return " ".join(clipped(text or "", REASON_LIMIT).split()) or None


def _cancel(invocation, session, reason: str | None) -> str:
    """Send (or confirm) the cancel of one session's run; the line the reply shows for it."""
    runtime, run = invocation.runtime, invocation.run
    now = time.time()
    with runtime.engine.begin() as conn:
        statement = dialect_insert(conn, session_stops).values(
            installation_id=run.installation_id, repository_id=session.repository_id, run_id=session.run_id,
            repository=session.repository, command_run_id=run.id, via="comment", stopped_by=run.sender_login,
            reason=reason, requested_at=now, outcome="sending", updated_at=now,
        ).on_conflict_do_nothing(index_elements=["command_run_id", "run_id"]).returning(session_stops.c.id)
        first_try = conn.execute(statement).scalar_one_or_none() is not None
        stop_row = conn.execute(select(session_stops).where(session_stops.c.command_run_id == run.id,
                                                            session_stops.c.run_id == session.run_id)).one()
    if stop_row.outcome != "sending":
        return _said(stop_row.outcome, runtime)
    outcome, conclusion = send_cancel(runtime, invocation.client, stop_row, retry=not first_try)
    if outcome == "already_finished":
        return f"its run had already finished ({conclusion})." if conclusion else "its run had already finished."
    return _said(outcome, runtime)


def send_cancel(runtime, client, stop_row, *, retry: bool) -> tuple[str, str | None]:
    """Send the cancel a stop recorded as `sending`; record and return what became of it (and the
    run's conclusion when it had already finished). A retry checks the run first: the earlier cancel
    may have reached GitHub before the failure. A run GitHub no longer has is `run_gone`, said once."""
    try:
        if retry:
            status = api.workflow_run(client, stop_row.repository, stop_row.run_id)
            if status.get("status") == "completed":
                # Cancelled: most likely by our own earlier cancel, which GitHub took before the failure.
                outcome = "cancelled" if status.get("conclusion") == "cancelled" else "already_finished"
                record_now(runtime, stop_row.id, outcome)
                return outcome, status.get("conclusion")
        cancelled = api.cancel_run(client, stop_row.repository, stop_row.run_id)
    except GitHubError as exc:
        if exc.status != 404:
            raise
        conclude(runtime, stop_row, "run_gone")
        return "run_gone", None
    if not cancelled:
        record_now(runtime, stop_row.id, "already_finished")
        return "already_finished", None
    with runtime.engine.begin() as conn:  # the outcome and its check, together or not at all
        record(conn, stop_row.id, "cancel_requested")
        runtime.queue.enqueue(conn, "stop.verify", {"stop": stop_row.id},
                              run_at=time.time() + runtime.settings.stop_grace_period)
    return "cancel_requested", None


def _said(outcome: str, runtime) -> str:
    if outcome == "cancel_requested":
        grace = session_text.duration(runtime.settings.stop_grace_period)
        return f"cancel requested; if its run is still going after {grace} it will be force-cancelled."
    if outcome in ("cancelled", "force_cancelled"):
        return "cancelled."
    if outcome == "run_gone":
        return "GitHub no longer has its run (it answers 404): nothing is left to cancel; a notice here says more."
    if outcome == "unconfirmed":
        return "cancelled, but GitHub has not confirmed that the session ended; a notice here says more."
    return "its run had already finished."
