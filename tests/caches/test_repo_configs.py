"""Repository config in the database: the file (or that there is none) is read once per ttl by every
process together, and re-checked after it with the file's ETag."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.caches.etags import DatabaseETagStore
from bot.caches.repo_configs import ConfigCache
from bot.db import repo_config_cache
from bot.repo_config import PATH, RepoConfig
from tests.caches.conftest import INSTALLATION, OTHER_INSTALLATION, REPO

TTL = 60.0


@pytest.fixture
def processes(engine, clock):
    """Two processes' caches on one database."""
    return tuple(ConfigCache(engine, DatabaseETagStore(engine), TTL, clock) for _ in range(2))


def statuses(fake_github) -> list[int]:
    return [r.status for r in fake_github.calls("GET", f"/repos/{REPO}/contents/{PATH}")]


def test_no_file_is_remembered_for_the_ttl_by_every_process(fake_github, github, processes, clock):
    first, second = processes
    client = github.installation(INSTALLATION)

    assert first.get(client, REPO) == (RepoConfig(), None, None)
    assert second.get(client, "Octo/Alpha") == (RepoConfig(), None, None)
    assert statuses(fake_github) == [404]

    fake_github.set_file(REPO, PATH, "prefix: /agent\n")
    clock.now += TTL + 1
    config, problem, sha = second.get(client, REPO)
    assert (config.prefix, problem) == ("/agent", None) and sha
    assert statuses(fake_github) == [404, 200]


def test_a_file_is_rechecked_after_the_ttl_and_an_unchanged_one_costs_a_304(fake_github, github, processes,
                                                                              clock):
    fake_github.set_file(REPO, PATH, "stop:\n  allow: listed\n  users: [alice]\n")
    first, second = processes
    client = github.installation(INSTALLATION)

    found = first.get(client, REPO)
    assert found[0] == RepoConfig(stop_allow="listed", stop_users=("alice",))
    assert second.get(client, REPO) == found
    clock.now += TTL + 1
    assert second.get(client, REPO) == found
    assert statuses(fake_github) == [200, 304]


def test_a_file_with_a_problem_keeps_its_problem_and_sha(fake_github, github, processes):
    fake_github.set_file(REPO, PATH, "colour: blue\n")
    first, second = processes
    client = github.installation(INSTALLATION)

    config, problem, sha = first.get(client, REPO)
    assert second.get(client, REPO) == (config, problem, sha) == (RepoConfig(), problem, sha)
    assert "unknown setting" in problem and sha
    assert statuses(fake_github) == [200]


def test_each_installation_asks_for_itself(fake_github, github, processes):
    processes[0].get(github.installation(INSTALLATION), REPO)
    processes[1].get(github.installation(OTHER_INSTALLATION), REPO)
    assert statuses(fake_github) == [404, 404]


def test_an_answer_stored_by_a_version_with_other_settings_is_asked_for_again(fake_github, github, processes,
                                                                               engine):
    client = github.installation(INSTALLATION)
    processes[0].get(client, REPO)
    with engine.begin() as conn:
        conn.execute(update(repo_config_cache).values(
            answer='{"config": {"retired_setting": 1}, "problem": null, "sha": null}'))

    assert processes[1].get(client, REPO) == (RepoConfig(), None, None)
    assert statuses(fake_github) == [404, 404]
