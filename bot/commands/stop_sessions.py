"""`/session stop [N|all]`: cancel a session's run, decided by repository permission.

Who may stop: people with write access (or more), and the person who started the session while
they can still read the repository (on a public repository, where everyone can read, while they
can triage or more); the decision is on the commenter (the comment's sender).
Every stop is recorded before the cancel is sent, so a retry after an ambiguous failure checks
the run's state instead of cancelling blindly; `stop.verify` force-cancels a run still going
after the grace period.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update

from bot.commands import session_text
from bot.commands.permissions import WRITE, starter_may_stop
from bot.commands.registry import command
from bot.db import dialect_insert, session_stops
from bot.github import api
from bot.jobs import Job, handles
from bot.repo_config import PATH
from bot.sessions.queries import NoSuchSession, numbered_sessions, pick

WHO = "people with write access, or who started the session (on a public repository: with triage access)"


@command("stop", usage="stop [N|all]", who=WHO,
         summary="Stop the latest running session, session `N`, or `all` running sessions.")
def stop(invocation) -> str:
    run = invocation.run
    with invocation.runtime.engine.connect() as conn:
        numbered = numbered_sessions(conn, run.repository_id, run.pr_number)
    wanted = invocation.command
    try:
        targets = pick(numbered, number=wanted.number, every_running=wanted.all, latest_running=True)
    except NoSuchSession as exc:
        return str(exc)
    if not targets:
        return "no session is running on this pull request."

    lines, refused, level = [], [], None
    for session in targets:
        if session.state not in session_text.RUNNING:
            lines.append(f"- session {session.number} already finished: {session_text.state(session.state)}.")
            continue
        level = level or invocation.runtime.permissions.level(invocation.client, run.installation_id,
                                                              run.repository, run.sender_login)
        if not _may_stop(invocation, level, session.starter):
            refused.append(session.number)
            continue
        lines.append(f"- session {session.number}: {_cancel(invocation, session)}")
    if refused:
        numbers = ", ".join(str(n) for n in refused)
        who = WHO if invocation.config.stop_allow == "write" else \
            f"the people and teams `{PATH}` lists, or who started the session,"
        lines.append(f"- not stopped: session{'s' if len(refused) > 1 else ''} {numbers}. Only {who} "
                     f"may stop a session.")
    return "\n".join(["stop:", *lines])


def _may_stop(invocation, level: str, starter: str | None) -> bool:
    """The repository's rule (write access by default, or a list of people and teams), or the starter."""
    config, login = invocation.config, invocation.run.sender_login
    if config.stop_allow == "write" and level in WRITE:
        return True
    if level == "none":
        return False  # listed or not, nobody without access to the repository stops its sessions
    if starter_may_stop(level, login, starter, lambda: _public(invocation)):
        return True
    if config.stop_allow == "write":
        return False
    if login.lower() in {u.lower() for u in config.stop_users}:
        return True
    return any(_in_team(invocation.client, team, login) for team in config.stop_teams)


def _public(invocation) -> bool:
    """Whether the commented repository is public, as GitHub says now (it can change any day)."""
    return not api.repository(invocation.client, invocation.run.repository).get("private", True)


def _in_team(client, team: str, login: str) -> bool:
    org, _, slug = team.partition("/")
    membership = api.team_membership(client, org, slug, login)
    return membership is not None and membership.get("state") == "active"


def _cancel(invocation, session) -> str:
    """Send (or confirm) the cancel of one session's run; the line the reply shows for it."""
    runtime, run = invocation.runtime, invocation.run
    now = time.time()
    with runtime.engine.begin() as conn:
        statement = dialect_insert(conn, session_stops).values(
            installation_id=run.installation_id, repository_id=session.repository_id, run_id=session.run_id,
            repository=session.repository, command_run_id=run.id, stopped_by=run.sender_login, requested_at=now,
            outcome="sending", updated_at=now,
        ).on_conflict_do_nothing(index_elements=["command_run_id", "run_id"]).returning(session_stops.c.id)
        first_try = conn.execute(statement).scalar_one_or_none() is not None
        stop_row = conn.execute(select(session_stops).where(session_stops.c.command_run_id == run.id,
                                                            session_stops.c.run_id == session.run_id)).one()
    client = invocation.client
    if stop_row.outcome != "sending":
        return _said(stop_row.outcome, runtime)
    if not first_try:  # a retry: the earlier cancel may have been sent already
        status = api.workflow_run(client, session.repository, session.run_id)
        if status.get("status") == "completed":
            # Cancelled: most likely by our own earlier cancel, which GitHub took before the failure.
            outcome = "cancelled" if status.get("conclusion") == "cancelled" else "already_finished"
            _record_now(runtime, stop_row.id, outcome)
            return _said(outcome, runtime) if outcome == "cancelled" else \
                f"its run had already finished ({status.get('conclusion')})."
    if not api.cancel_run(client, session.repository, session.run_id):
        _record_now(runtime, stop_row.id, "already_finished")
        return "its run had already finished."
    with runtime.engine.begin() as conn:  # the outcome and its check, together or not at all
        _record(conn, stop_row.id, "cancel_requested")
        runtime.queue.enqueue(conn, "stop.verify", {"stop": stop_row.id},
                              run_at=time.time() + runtime.settings.stop_grace_period)
    return _said("cancel_requested", runtime)


def _said(outcome: str, runtime) -> str:
    if outcome == "cancel_requested":
        grace = session_text.duration(runtime.settings.stop_grace_period)
        return f"cancel requested; if its run is still going after {grace} it will be force-cancelled."
    if outcome in ("cancelled", "force_cancelled"):
        return "cancelled."
    return "its run had already finished."


def _record(conn, stop_id: int, outcome: str) -> None:
    conn.execute(update(session_stops).where(session_stops.c.id == stop_id)
                 .values(outcome=outcome, updated_at=time.time()))


def _record_now(runtime, stop_id: int, outcome: str) -> None:
    with runtime.engine.begin() as conn:
        _record(conn, stop_id, outcome)


@handles("stop.verify")
def verify_stopped(runtime, job: Job) -> None:
    """After the grace period: force-cancel a run that ignored its cancel."""
    with runtime.engine.connect() as conn:
        stop_row = conn.execute(select(session_stops).where(session_stops.c.id == job.args["stop"])).first()
    if stop_row is None or stop_row.outcome != "cancel_requested":
        return
    client = runtime.github.installation(stop_row.installation_id)
    if api.workflow_run(client, stop_row.repository, stop_row.run_id).get("status") == "completed":
        _record_now(runtime, stop_row.id, "cancelled")
        return
    forced = api.cancel_run(client, stop_row.repository, stop_row.run_id, force=True)
    _record_now(runtime, stop_row.id, "force_cancelled" if forced else "cancelled")
