"""`/session log [N|latest] [--full]`: what the agent did in a session, readable in a minute.

A finished session's log is downloaded once, summarised while it streams, and the summary kept
(bot/commands/kept_summaries.py), so asking again costs no download. Summarising has a budget
(LOG_SUMMARY_BUDGET_SECONDS): a log that cannot be summarised within it gets a reply saying so, with
a link to read it on GitHub, and is not downloaded again.
GitHub writes a job's log only when it ends, so for a running session the reply shows what is
visible now — the commits the agent pushed and its checklist — and the full summary is posted as
a new comment (notifying the asker) when the session ends.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update

from bot.commands import replies, session_text
from bot.commands.arguments import Flag, Session
from bot.commands.kept_summaries import NotSummarised, summary_of, unsummarised
from bot.commands.registry import command
from bot.commands.runs import load_run
from bot.db import dialect_insert, log_requests, sessions
from bot.errors import TransientError
from bot.github import api
from bot.jobs import Job, handles
from bot.log_summaries import LogNotReady
from bot.logs.render import summary_markdown
from bot.patterns import linear
from bot.inert import one_line
from bot.redact import redact

_CHECKLIST = linear(r"^[ \t]*[-*] \[( |x|X)\] (.+)$", multiline=True)


@command("log", arguments=(Session(latest="latest"), Flag("--full")),
         summary="Summarise what the agent did in the latest session, or session `N` (`--full`: more detail).")
def show_log(invocation, args) -> str:
    """A finished session's summary, or a running one's progress so far (the summary follows when it ends)."""
    [session] = args.sessions
    if session.state not in session_text.RUNNING:
        try:
            full = args.full or invocation.config.summary == "full"
            body = summary_comment(invocation.runtime, invocation.client, session, full=full)
            return f"here is what the agent did in session {session.number}:\n\n{body}"
        except LogNotReady as exc:
            # Finished a moment ago: GitHub writes the log shortly after; the queue retries.
            raise TransientError(f"GitHub has not published the log of session {session.number} yet") from exc
        except NotSummarised as exc:
            return unsummarised(session, exc)
    _remember(invocation.runtime, invocation.run, session, args.full)
    return progress_so_far(invocation.client, session) + (
        "\n\nI will post the full summary here when the session ends.")


def summary_comment(runtime, client, session, *, full: bool) -> str:
    """The rendered summary of a finished session, from the stored summary or its log."""
    summary = summary_of(runtime, client, session)
    duration = (session.finished_at or time.time()) - (session.started_at or session.created_at)
    return summary_markdown(summary, state=session.state, duration=duration, run_url=session.html_url,
                  log_url=session.html_url, full=full)


def progress_so_far(client, session) -> str:
    """A running session's visible progress: commits on the PR and the description's checklist."""
    lines = [f"session {session.number} is {session_text.state(session.state)} "
             f"(for {session_text.session_duration(session, time.time())})."]
    commits = list(api.pull_commits(client, session.repository, session.pr_number))
    if commits:
        lines.append(f"\n**Commits so far** ({len(commits)}):")
        lines += [f"- {one_line(redact(c['commit']['message'].splitlines()[0] if c['commit']['message'] else ''))}"
                  for c in commits[-20:]]
    pull = api.pull_request(client, session.repository, session.pr_number)
    checklist = _CHECKLIST.findall(pull.get("body") or "")
    if checklist:
        done = sum(1 for mark, _ in checklist if mark.lower() == "x")
        lines.append(f"\n**Checklist** ({done}/{len(checklist)} done):")
        lines += [f"- {'☑' if mark.lower() == 'x' else '☐'} {one_line(redact(item))}" for mark, item in checklist[:30]]
    return "\n".join(lines)


def _remember(runtime, run, session, full: bool) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(dialect_insert(conn, log_requests).values(
            command_run_id=run.id, repository_id=session.repository_id, run_id=session.run_id, full=full,
            created_at=time.time()).on_conflict_do_nothing(index_elements=["command_run_id"]))


@handles("log.followup")
def post_followup(runtime, job: Job) -> None:
    """Post the summary of a session that was running when someone asked for its log."""
    run = load_run(runtime.engine, job.args["run"])
    with runtime.engine.connect() as conn:
        request = conn.execute(select(log_requests).where(log_requests.c.command_run_id == run.id)).one()
        session = conn.execute(select(sessions).where(sessions.c.repository_id == request.repository_id,
                                                      sessions.c.run_id == request.run_id)).one()
    if request.posted_comment_id is not None:
        return
    client = runtime.github.installation(run.installation_id)
    try:
        body = (f"session {session.number} has ended; here is its log.\n\n"
                + summary_comment(runtime, client, session, full=request.full))
    except LogNotReady as exc:  # GitHub writes the log shortly after the run ends: the queue retries
        raise TransientError(f"GitHub has not published the log of session {session.number} yet") from exc
    except NotSummarised as exc:  # told once, never retried: it would fail again
        body = f"session {session.number} has ended, but " + unsummarised(session, exc)
    # A new comment, not an edit: editing notifies nobody, and the asker is waiting for this.
    posted = replies.post_new(client, run, body, suffix="followup", retrying=job.attempts > 1)
    with runtime.engine.begin() as conn:
        conn.execute(update(log_requests).where(log_requests.c.command_run_id == run.id)
                     .values(posted_comment_id=posted))
