"""Who may do what on a repository, from GitHub's answer, cached briefly per process."""

from __future__ import annotations

import threading
import time
from typing import Callable

from bot.github import api

WRITE = ("admin", "maintain", "write")
# GitHub's roles (`role_name`); a custom role is read by its legacy `permission` (admin, write, read, none).
ROLES = (*WRITE, "triage", "read", "none")


class PermissionCache:
    """Repository permission per (installation, repository, login), kept for `ttl` seconds."""

    def __init__(self, ttl: float, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._answers: dict[tuple[int, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def level(self, client, installation_id: int, repository: str, login: str) -> str:
        """`login`'s role on `repository` ("owner/name"): one of ROLES."""
        key = (installation_id, repository.lower(), login.lower())
        with self._lock:
            cached = self._answers.get(key)
        if cached and cached[1] > self.clock():
            return cached[0]
        answer = api.collaborator_permission(client, repository, login)
        level = answer.get("role_name") if answer.get("role_name") in ROLES else answer.get("permission") or "none"
        with self._lock:
            self._answers[key] = (level, self.clock() + self.ttl)
        return level


def starter_may_stop(level: str, login: str, starter: str | None, public: Callable[[], bool]) -> bool:
    """Whether `login` started the session and may still stop it: while they can read the repository,
    or, on a public repository (where GitHub reports read for everyone), while they can triage or more.

    `public` is asked only when it decides: for a starter who can only read.
    """
    if not starter or starter.lower() != login.lower() or level not in ROLES[:-1]:
        return False
    return level != "read" or not public()
