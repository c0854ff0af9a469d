"""Each repository's config, or that it has none, shared by every process for a while.

After the ttl the file is read again with its ETag (a 304 when unchanged, from `bot.caches.etags`);
a repository without the file answers 404, which GitHub gives no ETag, so "no file" is an answer
kept for the ttl like any other rather than asked for by every command.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Callable

from sqlalchemy.engine import Engine

from bot.caches.answers import SharedAnswers
from bot.db import repo_config_cache
from bot.repo_config import RepoConfig, fetch

Found = tuple[RepoConfig, "str | None", "str | None"]


class ConfigCache:
    """(config, problem, sha) per (installation, repository), read from GitHub at most once per `ttl`
    seconds by all the bot's processes together."""

    def __init__(self, engine: Engine, etags, ttl: float, clock: Callable[[], float] = time.time):
        self.etags = etags
        self._answers = SharedAnswers(engine, repo_config_cache, ttl, clock)

    def get(self, client, repository: str) -> Found:
        """(config, problem, sha) as `bot.repo_config.fetch` gives them, at most `ttl` seconds old."""
        key = dict(installation_id=client.installation_id, repository=repository.lower())

        def ask() -> dict:
            return {"answer": encode(fetch(client, self.etags, repository))}

        try:
            return decode(self._answers.get(key, ask)["answer"])
        except (ValueError, TypeError, KeyError):  # stored by a version whose settings differ: ask again
            return decode(self._answers.refresh(key, ask)["answer"])


def encode(found: Found) -> str:
    """A fetched config as the cache stores it."""
    config, problem, sha = found
    return json.dumps({"config": dataclasses.asdict(config), "problem": problem, "sha": sha})


def decode(text: str) -> Found:
    """What `encode` stored; ValueError, TypeError or KeyError if it no longer fits RepoConfig."""
    stored = json.loads(text)
    settings = {name: tuple(value) if isinstance(value, list) else value for name, value in stored["config"].items()}
    return RepoConfig(**settings), stored["problem"], stored["sha"]
