"""Who may do what on a repository, from GitHub's answer (cached for every process: bot/caches/permissions.py)."""

from __future__ import annotations

from typing import Callable

from bot.github.api import ROLES

WRITE = ROLES[:3]  # admin, maintain, write


def starter_may_stop(level: str, login: str, starter: str | None, public: Callable[[], bool]) -> bool:
    """Whether `login` started the session and may still stop it: while they can read the repository,
    or, on a public repository (where GitHub reports read for everyone), while they can triage or more.

    `public` is asked only when it decides: for a starter who can only read.
    """
    if not starter or starter.lower() != login.lower() or level not in ROLES[:-1]:
        return False
    return level != "read" or not public()
