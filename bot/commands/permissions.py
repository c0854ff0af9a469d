"""Who may do what on a repository, from GitHub's answer, cached briefly per process."""

from __future__ import annotations

import threading
import time

WRITE = ("admin", "write")  # GitHub's legacy `permission` reports maintain as write


class PermissionCache:
    """Repository permission per (installation, repository, login), kept for `ttl` seconds."""

    def __init__(self, ttl: float, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._answers: dict[tuple[int, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def level(self, client, installation_id: int, repository: str, login: str) -> str:
        """`admin`, `write`, `read` or `none` for `login` on `repository` ("owner/name")."""
        key = (installation_id, repository.lower(), login.lower())
        with self._lock:
            cached = self._answers.get(key)
        if cached and cached[1] > self.clock():
            return cached[0]
        answer = client.get(f"/repos/{repository}/collaborators/{login}/permission")
        level = answer.get("permission") or "none"
        with self._lock:
            self._answers[key] = (level, self.clock() + self.ttl)
        return level


def may_stop(level: str, login: str, starter: str | None) -> bool:
    """Write access or more; or the person who started the session, if they can still read it."""
    if level in WRITE:
        return True
    return bool(starter) and starter.lower() == login.lower() and level == "read"
