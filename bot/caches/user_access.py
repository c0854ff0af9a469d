"""Which repositories a signed-in person can see, as GitHub says with their own token; and forgetting them.

A person sees a repository when GitHub lists it for them among this App's installations:
`GET /user/installations` (a user token of an App sees only that App's installations), then each
installation's `GET /user/installations/{id}/repositories`. The answer is kept in
`user_access_cache` for USER_ACCESS_CACHE_SECONDS, so every process shares it and a page view
within that time makes no GitHub call.

Forgetting a person (sign-out elsewhere, a revoked authorization, an uninstall) deletes what the bot
keeps of them: browser sessions, their sealed token and this cache, in one transaction.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from bot.caches.answers import SharedAnswers
from bot.db import user_access_cache, user_tokens, web_sessions
from bot.github import api
from bot.github.client import Client
from bot.github.errors import GitHubError

# (installation id, repository id, "owner/name"), as the cache stores each repository.
Repository = tuple[int, int, str]


class TokenRefused(Exception):
    """The person's token is gone or GitHub no longer takes it (401): they must sign in again."""


class UserAccess:
    """The repositories per person, asked of GitHub at most once per `ttl` seconds by all processes."""

    def __init__(self, engine: Engine, ttl: float, clock: Callable[[], float] = time.time):
        self._answers = SharedAnswers(engine, user_access_cache, ttl, clock)

    def repositories(self, user_id: int, client: Callable[[], Client]) -> list[Repository]:
        """What `user_id` can see; `client()` (their token's client) is only called when GitHub must be asked.

        TokenRefused when GitHub answers 401; other failures (TransientError, RetryLater) as the client raises.
        """
        answer = self._answers.get({"user_id": user_id}, lambda: {"repositories": json.dumps(_ask(client()))})
        return [(int(i), int(r), str(name)) for i, r, name in json.loads(answer["repositories"])]

    def repository_ids(self, user_id: int, client: Callable[[], Client]) -> frozenset[int]:
        """The ids of `repositories(...)`: what a Viewer is narrowed to."""
        return frozenset(repository for _, repository, _ in self.repositories(user_id, client))


def _ask(client: Client) -> list[Repository]:
    found: list[Repository] = []
    try:
        for installation in api.user_installations(client):
            try:
                repos = list(api.user_installation_repositories(client, installation["id"]))
            except GitHubError as exc:
                if exc.status != 404:  # uninstalled between the two calls: nothing to see there
                    raise
                continue
            found += [(int(installation["id"]), int(repo["id"]), str(repo["full_name"])) for repo in repos]
    except GitHubError as exc:
        if exc.status == 401:
            raise TokenRefused("GitHub no longer accepts this person's token") from None
        raise
    return found


def forget_user(engine: Engine, user_id: int) -> None:
    """Delete every browser session, the sealed token and the cached access of one person."""
    with engine.begin() as conn:
        for table in (web_sessions, user_tokens, user_access_cache):
            conn.execute(delete(table).where(table.c.user_id == user_id))


def forget_installation(engine: Engine, installation_id: int) -> list[int]:
    """An installation is gone: drop every cached access that names it, and forget the people whose
    only access was through it (their token would now reach nothing of this App). Their ids."""
    with engine.connect() as conn:
        rows = conn.execute(select(user_access_cache.c.user_id, user_access_cache.c.repositories)).all()
    naming, only = [], []
    for user_id, stored in rows:
        installations = {int(entry[0]) for entry in json.loads(stored)}
        if installation_id in installations:
            naming.append(user_id)
            if installations == {installation_id}:
                only.append(user_id)
    with engine.begin() as conn:
        if naming:
            conn.execute(delete(user_access_cache).where(user_access_cache.c.user_id.in_(naming)))
        for table in (web_sessions, user_tokens):
            if only:
                conn.execute(delete(table).where(table.c.user_id.in_(only)))
    return only
