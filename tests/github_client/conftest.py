"""Fixtures: a GitHub client on the fake GitHub with a clock the test moves, and what its metrics hook saw."""

import time

import pytest

from bot.github.auth import AppAuth
from bot.github.client import GitHub
from tests.github_client import INSTALLATION, REPO


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def responses():
    """What the on_response metrics hook saw: (method, status, remaining)."""
    return []


@pytest.fixture
def clock():
    return FakeClock(time.time())


@pytest.fixture
def github(fake_github, app_key, responses, clock):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem, clock=clock), clock=clock,
                read_timeout=2.0, sleep=lambda s: None, on_response=lambda *a: responses.append(a))
    yield gh
    gh.close()


@pytest.fixture
def repo_client(github):
    return github.installation(INSTALLATION)
