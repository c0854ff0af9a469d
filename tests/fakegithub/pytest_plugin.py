"""Fixtures: the app's RSA key and a running fake GitHub that fails the test on any problem."""

from __future__ import annotations

import pytest

from tests.harness.keys import AppKey, make_app_key

from . import APP_ID
from .server import FakeGitHub


@pytest.fixture(scope="session")
def app_key() -> AppKey:
    return make_app_key()


@pytest.fixture
def fake_github(app_key: AppKey):
    """A started FakeGitHub for app APP_ID; the test fails if any request it got was not a valid
    GitHub REST call with valid credentials."""
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=app_key.public_pem).start()
    try:
        yield fake
    finally:
        fake.stop()
    problems = fake.problems()
    if problems:
        pytest.fail("the fake GitHub saw requests GitHub would refuse:\n  " + "\n  ".join(problems),
                    pytrace=False)
