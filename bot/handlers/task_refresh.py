"""Copilot tasks followed with people's kept tokens: every TASK_REFRESH_SECONDS (at most once a
minute), for each person who chose to keep their token, their tasks are read from GitHub's Agent
tasks API and kept in the index (bot/sessions/tasks.py): state (`waiting_for_user`, `idle`,
`timed_out` too), model, usage per unit, and the artifacts (pull request, branch) that join a task
to its sessions. The Agents page then shows them from the index, never asking GitHub itself.

GitHub answers `GET /agents/tasks` with the person's own view, so its ETags are kept per person
(ScopedETags); an unchanged list is a 304, which costs no rate limit. Only a task whose list entry
may be newer than what the index keeps (or that it does not know) is read whole (`GET /agents/tasks/{id}`,
conditional too), at most READS_PER_PERSON per run, the most recently updated first: the rest are
read next time. Tasks of repositories the App is not installed on are left alone.

A person without a kept token is skipped: one who signed out or revoked the App has none (their
token is deleted then: bot/web/accounts.py, bot/handlers/authorizations.py). A token GitHub no
longer takes (401) signs its person out, as a page view would. This use of a token is not the
person's: it does not keep a kept token from its idle prune.
"""

from __future__ import annotations

import logging
import time

from bot.errors import RetryLater, TransientError
from bot.github import api
from bot.github.client import ScopedETags
from bot.github.errors import GitHubError
from bot.github.oauth import OAuthUnavailable
from bot.people.tokens import Tokens
from bot.schedule import periodic
from bot.sessions import queries, task_model, tasks

log = logging.getLogger(__name__)

PER_PERSON = 60.0  # GitHub is asked about one person's tasks at most this often, whatever the setting
READS_PER_PERSON = 20


def interval(settings) -> float:
    """TASK_REFRESH_SECONDS, at least PER_PERSON; 0 (off) without it or without sign-in (no tokens)."""
    if not settings.task_refresh_interval or not settings.sign_in:
        return 0.0
    return max(settings.task_refresh_interval, PER_PERSON)


@periodic("tasks.refresh", interval)
def refresh_job(runtime, job) -> None:
    """One look at every kept token's tasks (nothing in setup mode: there is no App)."""
    if runtime.github is not None:
        refresh(runtime, now=time.time())  # when GitHub is asked, on GitHub's clock: not the queue's


def refresh(runtime, *, now: float) -> int:
    """Read and keep the tasks of everyone who keeps their token; how many tasks were read whole."""
    people = Tokens(runtime.engine, runtime.settings)
    read = 0
    for user_id, login in people.kept_people():
        try:
            read += refresh_person(runtime, people, (user_id, login), now=now)
        except GitHubError as exc:
            if exc.status == 401:  # revoked on GitHub; the webhook saying so may not have come yet
                log.info("user %s: GitHub no longer takes their token; they must sign in again", user_id)
                people.forget(user_id)
            else:
                log.warning("tasks of user %s left for the next refresh: %s", user_id, exc)
        except (TransientError, RetryLater, OAuthUnavailable, KeyError, TypeError, ValueError) as exc:
            # The next run is a minute away: retrying this one, or failing everyone else's, gains nothing.
            # (An answer unlike GitHub's description is skipped the same way, and said.)
            log.warning("tasks of user %s left for the next refresh: %s", user_id, type(exc).__name__)
    return read


def refresh_person(runtime, people: Tokens, person: tuple[int, str], *, now: float) -> int:
    """Keep what GitHub says of one person's tasks in installed repositories; how many were read whole."""
    token = people.kept_access_token(person[0], touch=False)
    if token is None:
        return 0
    client, etags = runtime.github.user(token), ScopedETags(runtime.etags, f"user:{person[0]}")
    listed, _changed = api.person_tasks(client, etags)
    with runtime.engine.connect() as conn:
        installed = queries.repositories_by_id(conn, [_repository_id(t) for t in listed if _repository_id(t)])
        ours = [t for t in listed if _repository_id(t) in installed]
        kept = tasks.kept_tasks(conn, [str(t["id"]) for t in ours])
    stale = [t for t in ours if _newer(t, kept.get(str(t["id"])))]
    for answer in stale[:READS_PER_PERSON]:
        whole, _fresh = api.task(client, str(answer["id"]), etags)
        repository = installed[_repository_id(answer)]
        with runtime.engine.begin() as conn:
            tasks.record_task(conn, whole, installation_id=repository.installation_id, repository_id=repository.id,
                              repository=repository.full_name, now=now, person=person)
    with runtime.engine.begin() as conn:
        tasks.mark_checked(conn, [str(t["id"]) for t in ours if t not in stale], now)
    return min(len(stale), READS_PER_PERSON)


def _repository_id(answer: dict) -> int | None:
    repository = answer.get("repository")
    found = repository.get("id") if isinstance(repository, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _newer(answer: dict, row) -> bool:
    """Whether the list's entry may say more than the index keeps: a task it does not know, or one GitHub
    updated since (a session started or ended, its pull request came, its usage was counted). GitHub's
    times are whole seconds: a task last read within the second it was updated may have changed again
    in that second, so it is read once more."""
    if row is None:
        return True
    updated = task_model.facts_of(answer).updated_at
    return updated > row.updated_at or row.last_checked < updated + 1
