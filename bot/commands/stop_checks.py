"""After a cancel, make sure the session ended (`stop.verify`), and say so once when GitHub cannot confirm it.

GitHub's panel has shown sessions as running after their run was cancelled, and runs whose runner
vanished that nobody could stop (../shared/notes/copilot-agent-signals.md). So after the grace
period a stop is checked twice over:

1. the run completed: the index knows when the `workflow_run` webhook said so (then no call is made
   for the run); otherwise GitHub is asked. Still going: force-cancelled. Gone (404): `run_gone`.
2. the pull request's timeline shows Copilot finished (`sessions.timeline_outcome`). The index learns
   it from timeline reads the webhooks queue; when it has not yet, the check reads the timeline
   itself (with its ETag), and if Copilot's finish is still missing, looks once more after
   `STOP_CONFIRM_SECONDS`. Still missing then: `unconfirmed`. A session the timeline never showed
   starting has nothing there to confirm: the run alone says it ended.

`run_gone` and `unconfirmed` are said once on the pull request (a notice, bot/notices.py) and on the
session's page, with what the person can do.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update

from bot import notices, status_updates
from bot.db import session_stops
from bot.github import api
from bot.github.errors import GitHubError
from bot.inert import one_line
from bot.jobs import Job, handles
from bot.patterns import linear
from bot.sessions import model, queries, store

OPERATOR = "operator"  # who `stopped_by` names for a stop made with the operator's ADMIN_TOKEN
_LOGIN = linear(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")  # a GitHub login, which a mention may name

_REPORT = ("if GitHub still shows it running after a few minutes, report it to GitHub Support "
           "(support.github.com) with a link to this pull request.")
# What the pull request's notice and the session's page say of a stop GitHub did not confirm: the
# headline, then what the person can do. The bot's own words, plain text (no markdown).
ADVICE = {
    "run_gone": ("GitHub no longer has this session's Actions run: it answers 404 for it.",
                 "Nothing more runs on Actions for this session, and there is nothing left to cancel. "
                 "GitHub's own agents panel may still show the session as running; " + _REPORT),
    "unconfirmed": ("GitHub has not confirmed that this session ended.",
                    "Its Actions run is over, so nothing more runs on Actions for it, but the pull request's "
                    "timeline never showed Copilot finishing, so GitHub's own agents panel may still show "
                    "the session as running. Check the pull request's timeline and its Actions run; " + _REPORT),
}


def record(conn, stop_id: int, outcome: str) -> None:
    """Record what became of a stop (`session_stops.outcome`)."""
    conn.execute(update(session_stops).where(session_stops.c.id == stop_id)
                 .values(outcome=outcome, updated_at=time.time()))


def record_now(runtime, stop_id: int, outcome: str) -> None:
    """`record`, in a transaction of its own."""
    with runtime.engine.begin() as conn:
        record(conn, stop_id, outcome)


def stop_awaiting(runtime, stop_id: int, outcome: str):
    """The stop `stop_id` if it is still at `outcome` (a job finds it already dealt with otherwise), or None."""
    with runtime.engine.connect() as conn:
        stop_row = conn.execute(select(session_stops).where(session_stops.c.id == stop_id)).first()
    return stop_row if stop_row is not None and stop_row.outcome == outcome else None


@handles("stop.verify")
def verify_stopped(runtime, job: Job) -> None:
    """After the grace period: force-cancel a run that ignored its cancel; else make sure the session
    ended (see the module docstring). `last`: the second look at the timeline, which decides."""
    if (stop_row := stop_awaiting(runtime, job.args["stop"], "cancel_requested")) is None:
        return
    with runtime.engine.connect() as conn:
        session = queries.session_of_run(conn, stop_row.repository_id, stop_row.run_id)
    client = runtime.github.installation(stop_row.installation_id)
    if session is None or session.status != "completed":  # no webhook said it completed: ask GitHub
        try:
            run = api.workflow_run(client, stop_row.repository, stop_row.run_id)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            conclude(runtime, stop_row, "run_gone")
            return
        if run.get("status") != "completed":
            forced = api.cancel_run(client, stop_row.repository, stop_row.run_id, force=True)
            conclude(runtime, stop_row, "force_cancelled" if forced else "cancelled")
            return
    if _finish_shown(runtime, client, session):
        conclude(runtime, stop_row, "cancelled")
    elif job.args.get("last"):
        conclude(runtime, stop_row, "unconfirmed")
    else:
        with runtime.engine.begin() as conn:
            runtime.queue.enqueue(conn, "stop.verify", {"stop": stop_row.id, "last": True},
                                  run_at=time.time() + runtime.settings.stop_confirm_period,
                                  dedupe_key=f"stop.verify:{stop_row.id}:last")


def _finish_shown(runtime, client, session) -> bool:
    """Whether the pull request's timeline shows Copilot finished the session, or has nothing to say
    of it (no pull request, or it never showed the session start). Read only if the index lacks it."""
    if session is None or session.pr_number is None or session.timeline_outcome is not None:
        return True
    try:
        events = api.timeline(client, session.repository, session.pr_number, runtime.etags)
    except GitHubError as exc:
        if exc.status in (404, 410):
            return True  # the pull request is gone: no timeline left to contradict the run
        raise
    logins = runtime.settings.copilot_logins
    store.apply_timeline(runtime.engine, session.repository_id, session.pr_number, events, logins)
    with runtime.engine.connect() as conn:
        runs = [(s.run_id, s.created_at) for s in queries.sessions_of_pull(conn, session.repository_id,
                                                                           session.pr_number)]
    facts = model.match_timeline(runs, events, logins).get(session.run_id)
    return facts is None or facts.outcome is not None


def conclude(runtime, stop_row, outcome: str) -> None:
    """Record what a stop came to and, in the same transaction, the refresh of its pull request's
    status comment and, for a stop GitHub did not confirm (ADVICE), the notice that says so: once
    per session, however often it is found."""
    with runtime.engine.begin() as conn:
        record(conn, stop_row.id, outcome)
        session = queries.session_of_run(conn, stop_row.repository_id, stop_row.run_id)
        if session is None or session.pr_number is None:
            return
        if outcome in ADVICE:
            notices.notify(conn, runtime.queue, session, kind="stop_unconfirmed",
                           body=notice_body(stop_row, session, outcome))
        # No webhook may ever come to refresh it (a run that is gone sends none).
        status_updates.request(runtime, installation_id=session.installation_id, repository_id=session.repository_id,
                               repository=session.repository, pr_number=session.pr_number, conn=conn,
                               once=f"stop:{stop_row.id}")


def notice_body(stop_row, session, outcome: str) -> str:
    """The notice of a stop GitHub did not confirm: whom it concerns (mentioned: who stopped it, or
    when that was the operator or the bot, who started it), what happened, what they can do."""
    person = stop_row.stopped_by if stopped_by_person(stop_row) else None
    mention = next((login for login in (person, session.starter) if login and _LOGIN.fullmatch(login)), None)
    if person is None:
        by = "the operator" if stop_row.via == "page" else "session-bot (an automatic stop)"
    else:
        by = "you" if mention == person else one_line(person, 100)
    reason = f" (reason: “{one_line(stop_row.reason, 300)}”)" if stop_row.reason else ""
    which = f"session {session.number}" if session.number else "the Copilot session"
    headline, advice = ADVICE[outcome]
    run = f"\n\n[Its Actions run]({session.html_url})" if session.html_url and outcome != "run_gone" else ""
    said = f"{which} was stopped by {by}{reason}. **{headline}** {advice}{run}"
    return f"@{mention} {said}" if mention else said[0].upper() + said[1:]


def stopped_by_person(stop_row) -> bool:
    """Whether a person asked for the stop (not the operator's token, nor the bot's own watchdog)."""
    return stop_row.via != "watchdog" and not (stop_row.via == "page" and stop_row.stopped_by == OPERATOR)

