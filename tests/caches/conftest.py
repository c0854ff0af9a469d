"""Fixtures: a GitHub client on the fake GitHub, and a clock the test moves for the caches' ttl."""

from __future__ import annotations

import time

import pytest

from bot.github.auth import AppAuth
from bot.github.client import GitHub
from tests.clock import Clock

INSTALLATION, OTHER_INSTALLATION, REPO = 7, 8, "octo/alpha"


@pytest.fixture
def clock():
    """Now, held still: a test moves it past the caches' ttl."""
    return Clock(time.time())


@pytest.fixture
def github(fake_github, app_key):
    """The bot's GitHub client; installations 7 and 8 both cover octo/alpha (one moved to the other)."""
    fake_github.add_installation(INSTALLATION, "octo", [REPO])
    fake_github.add_installation(OTHER_INSTALLATION, "octo", [REPO])
    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), sleep=lambda s: None)
    yield gh
    gh.close()
