"""When a pull request's status comment is due an update: the one way to ask for it.

The comment itself is bot/handlers/status_comment.py's (the `status.update` job). Asking for it lives
here, below the commands and the handlers, so anything that changes what the comment shows (the
index's news, a stop's outcome, the watchdog's mark, a run's time) asks the same way: every change
within one `STATUS_COMMENT_INTERVAL_SECONDS` window queues the same job (its dedupe key names the
window), which runs at the window's end and reads the latest state, so a PR's comment is edited at
most once a window and no change is lost.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

KIND = "status.update"


def request(runtime, *, installation_id: int, repository_id: int, repository: str, pr_number: int,
            conn=None, once: str | None = None) -> None:
    """Queue the update of a pull request's status comment, coalesced with other changes; in `conn`'s
    transaction when given (with the change it shows). `once` names an event whose update must not be
    folded into a window whose job may have run already (a stop's outcome, found by a job of its own):
    its update is due at once, keyed by that event."""
    args = dict(installation_id=installation_id, repository_id=repository_id, repository=repository,
                pr_number=pr_number)
    interval = runtime.settings.status_comment_interval
    window = int(time.time() // interval)
    with nullcontext(conn) if conn is not None else runtime.engine.begin() as conn:
        if once is not None:
            runtime.queue.enqueue(conn, KIND, args, dedupe_key=f"status:{once}")
        else:
            runtime.queue.enqueue(conn, KIND, args, run_at=(window + 1) * interval,
                                  dedupe_key=f"status:{repository_id}:{pr_number}:{window}")
