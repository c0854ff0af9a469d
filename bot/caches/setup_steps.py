"""Whether a repository has `.github/workflows/copilot-setup-steps.yml` on its default branch, shared by
every process for a while, as the repository config is (bot/caches/repo_configs.py).

Read with the contents API and an ETag (a file unchanged since is a 304); "no file" is a 404, an
answer kept like any other. Only a job asks (bot/handlers/insights.py); the insights page reads the
table as it is (bot/sessions/report.py), so a page view never waits on GitHub.
"""

from __future__ import annotations

import time
from typing import Callable

from sqlalchemy.engine import Engine

from bot.caches.answers import SharedAnswers
from bot.db import setup_steps_cache
from bot.github import api
from bot.github.errors import GitHubError
from bot.sessions.failures import SETUP_STEPS_PATH

TTL = 6 * 3600.0  # a repository adds the file rarely; the hint may lag that much behind it


class SetupStepsCache:
    """Whether each (installation, repository) has SETUP_STEPS_PATH, asked of GitHub at most once per `ttl`."""

    def __init__(self, engine: Engine, etags, ttl: float = TTL, clock: Callable[[], float] = time.time):
        self.etags = etags
        self._answers = SharedAnswers(engine, setup_steps_cache, ttl, clock)

    def present(self, client, repository: str) -> bool:
        """Whether "owner/name" has the file on its default branch, as GitHub said at most `ttl` ago."""
        key = dict(installation_id=client.installation_id, repository=repository.lower())
        return bool(self._answers.get(key, lambda: {"present": has_file(client, self.etags, repository)})["present"])


def has_file(client, etags, repository: str) -> bool:
    """Whether the contents API finds SETUP_STEPS_PATH as a file of "owner/name"'s default branch."""
    try:
        content = api.file_contents(client, repository, SETUP_STEPS_PATH, etags)
    except GitHubError as exc:
        if exc.status == 404:
            return False
        raise
    return isinstance(content, dict) and content.get("type") == "file"
