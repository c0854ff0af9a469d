"""Notices: a new comment that mentions a person once about one session (stuck, finished, a stop
GitHub did not confirm, an automatic stop).

A mention notifies only in a new comment (one added by editing may not), so a notice is never an
edit of the status comment. "Once" is the table's unique key (repository, run, kind): however often
a check finds the same thing, and in however many processes, the first `notify` records the notice
with the job that posts it, in the caller's transaction, and every later one finds it there.
The job posts with a hidden marker; a retry after an ambiguous failure looks for the marker
before posting again, as command replies do (bot/commands/replies.py).
"""

from __future__ import annotations

import time

from sqlalchemy import select, update

from bot.db import dialect_insert, session_notices
from bot.errors import TransientError
from bot.github import api
from bot.jobs import Job, handles

KINDS = ("stuck", "finished", "stop_unconfirmed", "auto_stop")


def marker(run_id: int, kind: str) -> str:
    """The hidden first line of the notice of `kind` about run `run_id`."""
    return f"<!-- session-bot:notice {run_id} {kind} -->"


def notify(conn, queue, session, *, kind: str, body: str) -> bool:
    """Record the notice of `kind` about `session` (its `body`: inert markdown, mention included) and
    queue its posting, inside the caller's transaction; False if that notice exists already.
    `session` needs installation_id, repository_id, repository, pr_number and run_id."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    statement = dialect_insert(conn, session_notices).values(
        installation_id=session.installation_id, repository_id=session.repository_id,
        repository=session.repository, pr_number=session.pr_number, run_id=session.run_id, kind=kind,
        body=f"{marker(session.run_id, kind)}\n{body}", uncertain=False, created_at=time.time(),
    ).on_conflict_do_nothing(index_elements=["repository_id", "run_id", "kind"]).returning(session_notices.c.id)
    notice_id = conn.execute(statement).scalar_one_or_none()
    if notice_id is None:
        return False
    queue.enqueue(conn, "notice.post", {"notice": notice_id}, dedupe_key=f"notice.post:{notice_id}")
    return True


def notices_of(conn, repository_id: int, run_ids: list[int]) -> dict[tuple[int, str], object]:
    """The notices recorded about these runs: (run id, kind) → row (its comment_id once posted)."""
    if not run_ids:
        return {}
    rows = conn.execute(select(session_notices).where(session_notices.c.repository_id == repository_id,
                                                      session_notices.c.run_id.in_(run_ids))).all()
    return {(row.run_id, row.kind): row for row in rows}


@handles("notice.post")
def post_notice(runtime, job: Job) -> None:
    """Post one recorded notice, once."""
    with runtime.engine.connect() as conn:
        row = conn.execute(select(session_notices).where(session_notices.c.id == job.args["notice"])).first()
    if row is None or row.comment_id is not None:
        return
    client = runtime.github.installation(row.installation_id)
    comment_id = _find(client, row) if row.uncertain or job.attempts > 1 else None
    if comment_id is None:
        try:
            comment_id = api.post_comment(client, row.repository, row.pr_number, row.body)
        except TransientError as exc:
            if getattr(exc, "ambiguous", False):
                _set(runtime, row.id, uncertain=True)
            raise
    _set(runtime, row.id, comment_id=comment_id, uncertain=False, posted_at=time.time())


def _find(client, row) -> int | None:
    wanted = marker(row.run_id, row.kind)
    for comment in api.comments(client, row.repository, row.pr_number):
        if (comment.get("body") or "").startswith(wanted):
            return comment["id"]
    return None


def _set(runtime, notice_id: int, **values) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(update(session_notices).where(session_notices.c.id == notice_id).values(**values))
