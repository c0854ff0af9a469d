"""Fixtures: the fake GitHub with the App installed on acme's repositories, checked or not."""

from __future__ import annotations

import pytest

from tests.fakegithub import APP_ID
from tests.fakegithub.credentials import REPOS
from tests.fakegithub.server import FakeGitHub


@pytest.fixture
def fake(app_key):
    """A fake without the teardown check, for tests that provoke problems on purpose."""
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=app_key.public_pem).start()
    fake.add_installation(7, "acme", REPOS)
    yield fake
    fake.stop()


@pytest.fixture
def github(fake_github):
    """The plugin's fake (fails the test on any problem), with the app installed on acme."""
    fake_github.add_installation(7, "acme", REPOS)
    return fake_github


@pytest.fixture
def mona(github):
    """The checked fake; monalisa reaches acme/widgets and acme/gadgets (installation 7)."""
    github.add_user("monalisa")
    github.grant("monalisa", "acme/widgets", "acme/gadgets")
    return github
