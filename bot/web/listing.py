"""What the Agents page and its JSON API show: the list of sessions, and one session, as plain data.

Everything comes from the session index (bot/sessions/queries.py), narrowed to what the viewer may
see; nothing here calls GitHub. A session the viewer may not see is exactly one that does not
exist. Text from outside (titles, logins, commit messages) stays plain text here: the page's
templates autoescape it, and the log summary is the one piece of HTML (bot/web/markdown.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, is_dataclass

from markupsafe import Markup

from bot.commands import stop_checks, stop_requests
from bot.commands.kept_summaries import failure_of
from bot.errors import PermanentError, RetryLater, TransientError
from bot.logs.render import summary_markdown
from bot.logs.summary import Summary
from bot.sessions import model, queries
from bot.web import markdown, task_view
from bot.web.filters import LABELS, STATES, BadFilter, Filters
from bot.web.task_view import TaskInfo
from bot.web.viewer import Viewer

__all__ = ["BadFilter", "Detail", "Event", "Filters", "LABELS", "Listing", "Row", "STATES", "StateCount",
           "detail", "find_session", "load_listing", "row_of"]

log = logging.getLogger(__name__)

STOP_OUTCOMES = {"sending": "sending the cancel", "cancel_requested": "cancel requested", "cancelled": "cancelled",
                 "force_cancelled": "force-cancelled", "already_finished": "it had already finished",
                 "run_gone": "its run is gone", "unconfirmed": "cancelled, but GitHub did not confirm it ended"}
# The watchdog's marks (bot/sessions/watchdog.py): a badge's words, and what the session page says of it.
STUCK_LABELS = {"queued": "stuck in the queue", "running": "running too long", "unfinished": "never said it finished",
                "gone": "run gone"}
STUCK_TEXTS = {
    "queued": "Queued longer than its repository allows: GitHub may have no runner for it.",
    "running": "Running longer than its repository allows: it may be stuck.",
    "unfinished": "Its run ended, but the pull request's timeline never showed Copilot finishing: "
                  "GitHub may still show it as working.",
    "gone": "GitHub no longer has its run (404), though it never ended here: there is no run left to cancel.",
}


@dataclass(frozen=True)
class Row:
    """One session as a row of the list (and the head of its page)."""

    id: int
    repository: str  # owner/name
    pr_number: int | None  # None until the session is linked to its pull request
    pr_title: str | None
    number: int | None  # the session's number on its pull request (1, 2, …)
    state: str  # one of STATES
    label: str  # how the page names the state: "running", "timed out", …
    running: bool  # queued or in progress: not finished yet
    conclusion: str | None  # GitHub's run conclusion
    starter: str | None  # who started it; None: unknown
    created_at: float  # unix seconds: when the session was queued
    started_at: float | None
    finished_at: float | None
    run_attempt: int
    run_url: str | None  # the Actions run
    pr_url: str | None
    page_path: str  # the session's page on this site: /sessions/<id>
    stuck: str | None = None  # the watchdog's mark (STUCK_LABELS), or None
    stuck_at: float | None = None  # when the watchdog set it
    tasks: tuple[TaskInfo, ...] = ()  # the Copilot tasks it joins by their artifacts (bot/web/task_view.py)

    @property
    def stuck_label(self) -> str | None:
        """The badge's words for the watchdog's mark: `running too long`."""
        return STUCK_LABELS.get(self.stuck or "")

    @property
    def stuck_text(self) -> str | None:
        """What the watchdog's mark means, in a sentence."""
        return STUCK_TEXTS.get(self.stuck or "")

    def duration(self, now: float) -> float | None:
        """Seconds from its start to its end, or to `now` while it runs."""
        start = self.started_at or self.created_at
        end = now if self.running else self.finished_at
        return max(end - start, 0.0) if end is not None else None


@dataclass(frozen=True)
class StateCount:
    """How many sessions (under the other filters) are in one state, and the link that filters by it."""

    state: str
    label: str
    count: int  # at most queries.COUNT_CAP
    more: bool  # there are more than `count`
    selected: bool  # the list is filtered by this state
    query: str  # the query string of the list filtered by this state (the other filters kept)

    @property
    def text(self) -> str:
        """`3`, `1,204`, or `10,000+`."""
        return f"{self.count:,}{'+' if self.more else ''}"


@dataclass(frozen=True)
class Listing:
    """One page of the list, with the counts per state and what the viewer may filter by."""

    filters: Filters
    counts: tuple[StateCount, ...]  # in STATES order
    total: int  # the sum of the counts (at least, when `total_more`)
    total_more: bool
    rows: tuple[Row, ...]  # newest first
    next_cursor: str | None  # None on the last page
    repositories: tuple[str, ...]  # full names the viewer may filter by, in name order
    version: str  # changes whenever anything above does: the API's ETag

    @property
    def next_query(self) -> str | None:
        """The query string of the next page (same filters), or None on the last."""
        return self.filters.changed(cursor=self.next_cursor).query_string() if self.next_cursor else None

    def count(self, state: str) -> StateCount:
        """The count of one state."""
        return next(c for c in self.counts if c.state == state)


@dataclass(frozen=True)
class Event:
    """A moment of a session's timeline; `text` is plain text."""

    kind: str  # queued | started | commit | stop | finished
    at: float | None  # unix seconds; None when GitHub did not say
    text: str
    who: str | None = None  # a commit's author name, or who asked for a stop
    sha: str | None = None  # a commit's
    via: str | None = None  # a stop's: "comment" or "page"
    outcome: str | None = None  # a stop's outcome (STOP_OUTCOMES), or the state a session finished in
    reason: str | None = None  # a stop's, as the person gave it (redacted, one line)


@dataclass(frozen=True)
class Detail:
    """One session's page: its row, its timeline, its log summary, and whether the viewer may stop it."""

    row: Row
    timeline: tuple[Event, ...]  # in time order
    log_html: Markup | None  # the `/session log` summary, sanitised; None when there is none to show
    log_note: str | None  # why there is no summary (still running, or none kept yet)
    can_stop: bool
    stop_advice: tuple[str, str] | None  # (headline, what to do) when GitHub did not confirm its stop
    version: str  # changes whenever anything above does: the API's ETag


def load_listing(runtime, viewer: Viewer, filters: Filters) -> Listing:
    """The page of sessions the filters ask for, among those the viewer may see."""
    scope = filters.scope(viewer)
    with runtime.engine.connect() as conn:
        page = queries.find_sessions(conn, scope, limit=filters.per_page, cursor=filters.cursor)
        counted = queries.count_states(conn, scope)
        names = queries.repository_names(conn, viewer.repository_ids)
        joined = task_view.of_sessions(conn, page.items)
    counts = tuple(StateCount(state=state, label=LABELS[state], count=counted.per_state[state],
                              more=state in counted.more, selected=filters.state == state,
                              query=filters.changed(state=state).query_string())
                   for state in STATES)
    rows = tuple(row_of(found, runtime.settings.github_url, joined[found.id]) for found in page.items)
    parts = dict(filters=filters, counts=counts, total=sum(c.count for c in counts),
                 total_more=any(c.more for c in counts), rows=rows, next_cursor=page.cursor, repositories=tuple(names))
    return Listing(**parts, version=_version(parts))


def find_session(runtime, viewer: Viewer, session_id: int):
    """The index's row of the session (with `pr_title`, `pr_url`), or None when there is no such
    session or the viewer may not see it: the two are told apart nowhere."""
    with runtime.engine.connect() as conn:
        return queries.session_by_id(conn, session_id, viewer.repository_ids)


def detail(runtime, viewer: Viewer, session_id: int) -> Detail | None:
    """One session's page, or None (404) when there is none the viewer may see."""
    found = find_session(runtime, viewer, session_id)
    if found is None:
        return None
    with runtime.engine.connect() as conn:
        row = row_of(found, runtime.settings.github_url, task_view.of_sessions(conn, [found])[found.id])
        stops = queries.stops_of_session(conn, found)
        timeline = _timeline(row, found, queries.commits_of_session(conn, found), stops)
        stored = None if row.running else queries.stored_summary(conn, found)
        failure = None if row.running or stored is not None else failure_of(conn, found)
    log_html, log_note = None, None
    if row.running:
        log_note = "The log summary comes when the run ends."
    elif failure is not None:  # said once, as the status comment says it: nobody downloads it again
        why = (f"could not be summarised in time (within {failure.budget:g} s)" if failure.reason == "timeout"
               else "could not be summarised (the summariser stopped: out of memory, or a crash)")
        log_note = f"This session's log {why}; the whole log is on GitHub."
    elif stored is None:
        log_note = "No summary of this session's log is kept yet; the whole log is on GitHub."
    else:
        # As `/session log` renders it (bot/commands/show_log.py); finished, so `now` plays no part.
        log_html = markdown.to_html(summary_markdown(
            Summary.from_dict(json.loads(stored)), state=row.state, duration=row.duration(now=0.0),
            run_url=row.run_url or "", log_url=row.run_url or ""))
    can_stop = row.running and _may_stop(runtime, found, viewer)
    stop_advice = stop_checks.ADVICE.get(stops[-1].outcome) if stops else None
    parts = dict(row=row, timeline=timeline, log_html=log_html, log_note=log_note, can_stop=can_stop,
                 stop_advice=stop_advice)
    return Detail(**parts, version=_version(parts))


def _may_stop(runtime, found, viewer: Viewer) -> bool:
    """The stop rule for the viewer; a role GitHub cannot be asked for now shows no Stop button (the
    stop itself would be refused the same way) rather than failing the whole page."""
    try:
        return stop_requests.may_stop(runtime, found, viewer.login)
    except (TransientError, RetryLater, PermanentError) as exc:
        log.warning("whether %s may stop session %s could not be decided: %s", viewer.login, found.id, exc)
        return False


def row_of(found, github_url: str, tasks: tuple[TaskInfo, ...] = ()) -> Row:
    """The page's row of an index session (`find_session`'s), with the tasks it joins."""
    pr_url = found.pr_url
    if pr_url is None and found.pr_number is not None:  # a pull request known by number only, not read yet
        pr_url = f"{github_url.rstrip('/')}/{found.repository}/pull/{found.pr_number}"
    return Row(id=found.id, repository=found.repository, pr_number=found.pr_number, pr_title=found.pr_title,
               number=found.number, state=found.state, label=LABELS.get(found.state, found.state),
               running=found.state in model.RUNNING, conclusion=found.conclusion, starter=found.starter,
               created_at=found.created_at, started_at=found.started_at, finished_at=found.finished_at,
               run_attempt=found.run_attempt, run_url=found.html_url, pr_url=pr_url, page_path=f"/sessions/{found.id}",
               stuck=found.stuck, stuck_at=found.stuck_at, tasks=tasks)


def _timeline(row: Row, found, commits: list, stops: list) -> tuple[Event, ...]:
    events = [Event("queued", row.created_at, "Queued")]
    if row.started_at is not None:
        events.append(Event("started", row.started_at,
                            "Started" + (f" (attempt {row.run_attempt})" if row.run_attempt > 1 else "")))
    events += [Event("commit", commit.committed_at, (commit.message or "").strip().split("\n", 1)[0],
                     who=commit.author, sha=commit.sha) for commit in commits]
    for stop in stops:
        where = {"page": "on the Agents page", "watchdog": "by the watchdog"}.get(stop.via, "in a comment")
        why = f" · reason: “{stop.reason}”" if stop.reason else ""
        events.append(Event("stop", stop.requested_at,
                            f"Stop asked for by {stop.stopped_by} {where}: {STOP_OUTCOMES.get(stop.outcome, stop.outcome)}{why}",
                            who=stop.stopped_by, via=stop.via, outcome=stop.outcome, reason=stop.reason))
    if not row.running:
        said = {"finished": "; the agent said it finished", "failed": "; the agent said it failed"}
        conclusion = f" (conclusion: {row.conclusion})" if row.conclusion else ""
        events.append(Event("finished", row.finished_at,
                            f"Finished: {row.label}{conclusion}{said.get(found.timeline_outcome or '', '')}",
                            outcome=row.state))
    # In time order (stable: queued before started at the same second); one GitHub gave no time for comes last.
    return tuple(sorted(events, key=lambda event: event.at if event.at is not None else float("inf")))


def _version(parts: dict) -> str:
    """A digest of what a listing or a detail shows: equal exactly when they show the same."""
    text = json.dumps(parts, default=lambda v: asdict(v) if is_dataclass(v) else str(v), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
