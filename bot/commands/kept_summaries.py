"""A finished session's log summary, kept: its log downloaded and summarised once, ever, then read back.

`/session log`, the summaries posted when a session someone asked about ends, and the summary folded
into the status comment when a session finishes (`summary_on_finish`) all read it here. A log that
could not be summarised (the summariser ran past LOG_SUMMARY_BUDGET_SECONDS, or died) is kept as
such too: another try would download it again to fail the same way. Only a budget raised since then
earns it one more try.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import select

from bot.db import dialect_insert, session_summaries, summary_failures
from bot.errors import PermanentError
from bot.log_summaries import SummaryFailed, SummaryTimeout, summarise_run
from bot.logs.summary import Summary
from bot.sessions.queries import stored_summary


class NotSummarised(PermanentError):
    """The session's log could not be summarised: `reason` "timeout" (within `budget` seconds) or "failed"."""

    def __init__(self, reason: str, budget: float):
        super().__init__(f"the log could not be summarised ({reason}, budget {budget:g} s)")
        self.reason, self.budget = reason, budget


def summary_of(runtime, client, session) -> Summary:
    """The summary of a finished session's current attempt: kept, or its log downloaded, summarised and
    kept now. NotSummarised when it cannot be (now, or kept from an earlier try); LogNotReady while
    GitHub has not published the log."""
    with runtime.engine.connect() as conn:
        kept = stored_summary(conn, session)
        failure = failure_of(conn, session)
    if kept:
        return Summary.from_dict(json.loads(kept))
    budget = runtime.settings.log_summary_budget
    if failure is not None and not (failure.reason == "timeout" and failure.budget < budget):
        raise NotSummarised(failure.reason, failure.budget)
    try:
        summary = summarise_run(client, session.repository, session.run_id, budget=budget)
    except (SummaryTimeout, SummaryFailed) as exc:
        reason = "timeout" if isinstance(exc, SummaryTimeout) else "failed"
        _keep(runtime, summary_failures, session, reason=reason, budget=budget)
        raise NotSummarised(reason, budget) from exc
    _keep(runtime, session_summaries, session, summary=json.dumps(summary.to_dict()))
    return summary


def unsummarised(session, exc: NotSummarised) -> str:
    """Why a finished session's log has no summary, and where to read it instead."""
    if exc.reason == "timeout":
        why = f"could not be summarised in time (within {exc.budget:g} s), and asking again would take as long"
    else:
        why = "could not be summarised (the summariser stopped: out of memory, or a crash)"
    return f"the log of session {session.number} {why}. The whole log is on GitHub: {session.html_url}"


@dataclass(frozen=True)
class Kept:
    """What is kept of one session's log: its summary, or why there is none (`failure`); neither when
    it was not read (kept, but older than the newest ones asked for)."""

    summary: Summary | None = None
    failure: NotSummarised | None = None


def kept_of(conn, pr_sessions, *, newest: int) -> dict[int, Kept]:
    """What is kept of these sessions' logs (their current attempts'), by run id, the summaries of
    only the `newest` of them read (a pull request may have hundreds); nothing is downloaded."""
    if not pr_sessions:
        return {}
    attempts = {s.run_id: s.run_attempt for s in pr_sessions}
    where = dict(repository_id=pr_sessions[0].repository_id, runs=list(attempts))
    failed = {row.run_id: row for row in conn.execute(_current(summary_failures, **where)) if
              attempts[row.run_id] == row.run_attempt}
    summarised = [row.run_id for row in conn.execute(_current(session_summaries, **where, columns=True))
                  if attempts[row.run_id] == row.run_attempt]
    found = {run_id: Kept(failure=NotSummarised(row.reason, row.budget)) for run_id, row in failed.items()}
    found.update((run_id, Kept()) for run_id in summarised)  # a summary made with a larger budget wins
    order = [s.run_id for s in pr_sessions if s.run_id in found]
    wanted = [run_id for run_id in order[-newest:] if run_id in summarised] if newest else []
    if wanted:
        for row in conn.execute(_current(session_summaries, repository_id=where["repository_id"], runs=wanted)):
            found[row.run_id] = Kept(summary=Summary.from_dict(json.loads(row.summary)))
    return found


def _current(table, *, repository_id: int, runs: list[int], columns: bool = False):
    """The rows of `table` (or only their keys: `columns`) of these runs."""
    what = select(table.c.run_id, table.c.run_attempt) if columns else select(table)
    return what.where(table.c.repository_id == repository_id, table.c.run_id.in_(runs))


def failure_of(conn, session):
    """Why the current attempt of `session` has no summary (its `summary_failures` row), or None."""
    return conn.execute(select(summary_failures).where(
        summary_failures.c.repository_id == session.repository_id, summary_failures.c.run_id == session.run_id,
        summary_failures.c.run_attempt == session.run_attempt)).first()


def _keep(runtime, table, session, **kept) -> None:
    values = dict(run_attempt=session.run_attempt, created_at=time.time(), **kept)
    with runtime.engine.begin() as conn:
        statement = dialect_insert(conn, table).values(repository_id=session.repository_id,
                                                       run_id=session.run_id, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["repository_id", "run_id"], set_=values))
