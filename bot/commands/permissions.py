"""A commenter's role on a repository, from GitHub's answer, cached briefly per process (who may do what: policies.py)."""

from __future__ import annotations

import threading
import time

from bot.commands.policies import ROLES
from bot.github import api


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

