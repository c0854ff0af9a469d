"""A person's role on a repository, as GitHub answered it, shared by every process for a while."""

from __future__ import annotations

import time
from typing import Callable

from sqlalchemy.engine import Engine

from bot.caches.answers import SharedAnswers
from bot.db import permission_cache
from bot.github import api


class PermissionCache:
    """Roles per (installation, repository, login), asked of GitHub at most once per `ttl` seconds
    by all the bot's processes together."""

    def __init__(self, engine: Engine, ttl: float, clock: Callable[[], float] = time.time):
        self._answers = SharedAnswers(engine, permission_cache, ttl, clock)

    def level(self, client, installation_id: int, repository: str, login: str) -> str:
        """`login`'s role on `repository` ("owner/name"): one of `bot.github.api.ROLES`."""
        key = dict(installation_id=installation_id, repository=repository.lower(), login=login.lower())
        answer = self._answers.get(key, lambda: {"level": api.repository_role(client, repository, login)})
        return answer["level"]
