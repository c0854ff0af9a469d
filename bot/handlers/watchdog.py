"""The watchdog: every WATCHDOG_INTERVAL_SECONDS, stuck sessions are marked, their starter is told
once, and a session past its repository's `auto_stop_after_minutes` is stopped.

The decision is the index's (bot/sessions/watchdog.py); this job reads the index, and asks GitHub
only about a session the index says is past a limit or stale, and only when that would set a new
mark (or stop it): the run (a 404 means it is gone; an answer that says it ended was a missed
webhook, taken into the index), or, for a finish the timeline never showed, the timeline once more
(conditional: a 304 when unchanged). Sessions within their limits cost no call, and a repository's
config (cached, conditional) is read only when it has a session old enough for a limit to matter.

A new mark is written with its notice (bot/notices.py: a new comment mentioning the starter, once
per session however often the mark changes) and the status comment's update, in one transaction.
An automatic stop is bot/commands/stop_requests.py's, by "session-bot" with the reason "auto-stop",
sent once: only for a session with no stop on record, its notice recorded first.
"""

from __future__ import annotations

import logging
from itertools import groupby

from bot.commands import session_text, stop_requests
from bot.errors import PermanentError, RetryLater, TransientError
from bot.github import api
from bot.github.errors import GitHubError
from bot.handlers import status_comment
from bot.handlers.timeline import reconcile, request_timeline
from bot.notices import notify
from bot.schedule import periodic
from bot.sessions import model, queries, store, watchdog
from bot.sessions.model import RUNNING

log = logging.getLogger(__name__)

AUTO_STOP = "auto-stop"  # the reason an automatic stop records


@periodic("watchdog", lambda settings: settings.watchdog_interval)
def watchdog_job(runtime, job) -> None:
    """One look at the sessions (nothing to do in setup mode: there is no App to ask)."""
    if runtime.github is not None:
        # The queue's clock, which said this run was due (the one a test moves).
        watch(runtime, now=runtime.queue.clock())


def watch(runtime, *, now: float) -> int:
    """Mark, tell and stop what `now` calls for; how many marks changed."""
    with runtime.engine.connect() as conn:
        found = watchdog.candidates(conn, now)
    changed = 0
    for (installation_id, _repository_id), group in groupby(found, lambda s: (s.installation_id, s.repository_id)):
        repository = Repository(runtime, installation_id, list(group), now)
        for session in repository.sessions:
            try:
                changed += check(runtime, repository, session, now)
            except (GitHubError, TransientError, RetryLater, PermanentError) as exc:
                # The next run is a minute away: retrying this one, or failing the rest, gains nothing.
                log.warning("watchdog: session %s of %s left for the next check: %s", session.run_id,
                            session.repository, exc)
    return changed


class Repository:
    """One repository's sessions worth judging, and its config, read at most once and only when needed."""

    def __init__(self, runtime, installation_id: int, found: list, now: float):
        self.runtime, self.installation_id = runtime, installation_id
        # Queued or running sessions younger than the smallest limit cannot be past one: not judged.
        self.sessions = [s for s in found if s.state not in RUNNING or watchdog.old_enough(s, now)]
        self._client = self._config = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.runtime.github.installation(self.installation_id)
        return self._client

    @property
    def config(self):
        """The repository's RepoConfig (cached for every process by bot/caches/repo_configs.py)."""
        if self._config is None:
            self._config = self.runtime.repo_configs.get(self.client, self.sessions[0].repository)[0]
        return self._config

    def limits(self, session) -> watchdog.Limits:
        """The limits a session is judged by: a finished one needs none, so no config is read for it."""
        if session.state not in RUNNING:
            return watchdog.Limits()
        config = self.config
        return watchdog.Limits(config.stuck_queued_minutes, config.stuck_running_minutes,
                               config.auto_stop_after_minutes)


def check(runtime, repository: Repository, session, now: float) -> bool:
    """Judge one session; ask GitHub when a new mark (or a stop) calls for it; write the mark with
    its notice and the status comment's update; stop it if due. Whether its mark changed."""
    limits = repository.limits(session)
    verdict = watchdog.judge(session, limits, now)
    stopping = verdict.auto_stop and not _stop_on_record(runtime, session)
    if verdict.confirm or stopping:
        before = session.state
        session, gone = _look(runtime, repository, session)
        if session.state != before:
            return False  # the index was behind: judged afresh next time, after the news it just took
        limits = repository.limits(session)
        verdict = watchdog.judge(session, limits, now, run_gone=gone)
        stopping = verdict.auto_stop and stopping
    changed = verdict.mark != session.stuck and _mark(runtime, repository, session, verdict, stopping, now)
    if stopping:
        _auto_stop(runtime, repository, session, limits, now)
    return changed


def _look(runtime, repository: Repository, session):
    """Ask GitHub whether the index is behind: (the session as the index then has it, whether its run is gone)."""
    if session.state in RUNNING:
        try:
            run = api.workflow_run(repository.client, session.repository, session.run_id)
        except GitHubError as exc:
            if exc.status == 404:
                return session, True
            raise
        row = store.observe(runtime.engine, installation_id=session.installation_id,
                            repository_id=session.repository_id, repository=session.repository, run_id=session.run_id,
                            record=model.observe_run(run, runtime.settings.copilot_logins))
        if row.state != session.state:  # a webhook GitHub never delivered: what it would have done
            log.info("watchdog: run %s of %s is %s, not %s as the index had it", session.run_id,
                     session.repository, row.state, session.state)
            request_timeline(runtime, row)
            if row.pr_number is not None:
                status_comment.request(runtime, installation_id=row.installation_id, repository_id=row.repository_id,
                                       repository=row.repository, pr_number=row.pr_number)
        return row, False
    reconcile(runtime, installation_id=session.installation_id, repository_id=session.repository_id,
              repository=session.repository, number=session.pr_number)
    with runtime.engine.connect() as conn:
        return queries.session_by_id(conn, session.id, None) or session, False  # (or: uninstalled meanwhile)


def _mark(runtime, repository: Repository, session, verdict: watchdog.Verdict, stopping: bool, now: float) -> bool:
    """Write the session's new mark (or clear it), with its notice and the status comment's update."""
    # An automatic stop says it all in its own notice; a finish the timeline never showed after a stop
    # is the stop's to report (its verification), not the watchdog's.
    tell = verdict.mark is not None and session.pr_number is not None and not stopping and not (
        verdict.mark == "unfinished" and _stop_on_record(runtime, session))
    body = stuck_notice(session, verdict.mark, repository.limits(session), repository.config.prefix, now) if tell else None
    with runtime.engine.begin() as conn:
        if not watchdog.set_mark(conn, session, verdict.mark, now):
            return False  # the session changed meanwhile: the next check judges it afresh
        if body is not None:
            notify(conn, runtime.queue, session, kind="stuck", body=body)
        if session.pr_number is not None:
            status_comment.request(runtime, installation_id=session.installation_id,
                                   repository_id=session.repository_id, repository=session.repository,
                                   pr_number=session.pr_number, conn=conn)
    log.info("watchdog: session %s of %s %s", session.run_id, session.repository,
             f"marked {verdict.mark}" if verdict.mark else f"no longer {session.stuck}")
    return True


def _auto_stop(runtime, repository: Repository, session, limits: watchdog.Limits, now: float) -> None:
    """Stop a session past `auto_stop_after_minutes`: the notice recorded first, then the stop, so a
    crash between the two leaves a session still running, and the next check sends the stop."""
    if session.pr_number is not None:
        body = auto_stop_notice(session, limits, repository.config.prefix, now)
        with runtime.engine.begin() as conn:
            notify(conn, runtime.queue, session, kind="auto_stop", body=body)
    try:
        stop_requests.request_stop(runtime, session, login=None, via="watchdog", reason=AUTO_STOP)
    except stop_requests.AlreadyFinished:
        return
    log.info("watchdog: session %s of %s stopped after %d minutes", session.run_id, session.repository,
             limits.auto_stop_after_minutes)


def _stop_on_record(runtime, session) -> bool:
    """Whether anyone (a person or the watchdog) has asked to stop the session's run."""
    with runtime.engine.connect() as conn:
        return bool(queries.stops_of_session(conn, session))


# -- what the notices say (inert markdown: logins and the run's address are GitHub's, as in the status comment)


def _to(session) -> str:
    """The mention that opens a notice: its starter, or nobody when nobody is known."""
    return f"@{session.starter} session" if session.starter else "Session"


def _run(session) -> str:
    return f" ([its run]({session.html_url}))" if session.html_url else ""


def _minutes(session, now: float) -> int:
    return int((now - (watchdog.since(session) or now)) // 60)


def stuck_notice(session, mark: str, limits: watchdog.Limits, prefix: str, now: float) -> str:
    """The one comment telling the starter what is wrong with their session and what they can do."""
    n, stop = session.number, f"`{prefix} stop {session.number}`"
    if mark == "queued":
        return (f"{_to(session)} {n} has been queued for {_minutes(session, now)} minutes{_run(session)}, longer than "
                f"this repository's limit of {limits.queued_minutes} (`stuck.queued_minutes`): GitHub may have no "
                f"runner for it. {stop} cancels it, and asking Copilot again starts a new one.")
    if mark == "running":
        return (f"{_to(session)} {n} has been running for {_minutes(session, now)} minutes{_run(session)}, longer "
                f"than this repository's limit of {limits.running_minutes} (`stuck.running_minutes`): it may be "
                f"stuck. If its run shows no progress, {stop} cancels it.")
    if mark == "unfinished":
        ended = session_text.STATES.get(session.state, ("", session.state))[1]
        return (f"{_to(session)} {n} ended ({ended}) {_minutes(session, now)} minutes ago{_run(session)}, but this "
                f"pull request's timeline never showed Copilot finishing, so GitHub may still show it as working. "
                f"There is no run left to stop; `{prefix} log {n}` summarises what it did.")
    return (f"{_to(session)} {n} still looks running, but GitHub no longer has its run (it answers 404 Not Found). "
            f"There is no run left for {stop} to cancel: if GitHub still shows it as working, stop it from the "
            f"pull request's own session panel.")


def auto_stop_notice(session, limits: watchdog.Limits, prefix: str, now: float) -> str:
    """The one comment saying the bot stopped a session for its time."""
    return (f"{_to(session)} {session.number} has been running for {_minutes(session, now)} minutes{_run(session)}, "
            f"past this repository's `auto_stop_after_minutes` ({limits.auto_stop_after_minutes}), so session-bot "
            f"is cancelling its run, with the reason \"{AUTO_STOP}\". `{prefix} list` shows how it went.")
