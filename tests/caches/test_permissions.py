"""Permission answers in the database: one process's answer serves every process until the ttl ends."""

from __future__ import annotations

import pytest

from bot.caches.permissions import PermissionCache
from tests.caches.conftest import INSTALLATION, OTHER_INSTALLATION, REPO

TTL = 60.0


@pytest.fixture
def processes(engine, clock):
    """Two processes' caches on one database."""
    return PermissionCache(engine, TTL, clock), PermissionCache(engine, TTL, clock)


def asked(fake_github, login="hubot") -> int:
    return len(fake_github.calls("GET", f"/repos/{REPO}/collaborators/{login}/permission"))


def test_an_answer_one_process_got_serves_another_until_the_ttl_ends(fake_github, github, processes, clock):
    fake_github.permissions[(REPO, "hubot")] = "maintain"
    first, second = processes
    client = github.installation(INSTALLATION)

    assert first.level(client, INSTALLATION, REPO, "hubot") == "maintain"
    assert second.level(client, INSTALLATION, "Octo/Alpha", "HUBOT") == "maintain"
    assert asked(fake_github) == 1

    fake_github.permissions[(REPO, "hubot")] = "read"
    clock.now += TTL - 1
    assert second.level(client, INSTALLATION, REPO, "hubot") == "maintain"
    clock.now += 2
    assert second.level(client, INSTALLATION, REPO, "hubot") == "read"
    assert first.level(client, INSTALLATION, REPO, "hubot") == "read"
    assert asked(fake_github) == 2


def test_answers_are_kept_per_installation_repository_and_login(fake_github, github, processes):
    fake_github.permissions[(REPO, "hubot")] = "write"
    first, second = processes

    first.level(github.installation(INSTALLATION), INSTALLATION, REPO, "hubot")
    assert second.level(github.installation(INSTALLATION), INSTALLATION, REPO, "mallory") == "none"
    assert second.level(github.installation(OTHER_INSTALLATION), OTHER_INSTALLATION, REPO, "hubot") == "write"

    assert (asked(fake_github), asked(fake_github, "mallory")) == (2, 1)


@pytest.mark.parametrize("role", ["admin", "maintain", "write", "triage", "read", "none"])
def test_every_role_is_read_as_github_names_it(fake_github, github, processes, role):
    fake_github.permissions[(REPO, "hubot")] = role
    assert processes[0].level(github.installation(INSTALLATION), INSTALLATION, REPO, "hubot") == role
