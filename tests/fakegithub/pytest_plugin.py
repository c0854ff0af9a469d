"""Fixtures: the app's RSA key and a running fake GitHub that fails the test on any problem."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import APP_ID
from .server import FakeGitHub


@dataclass(frozen=True)
class AppKey:
    """The GitHub App's private key as GitHub hands it out (PKCS#1 PEM), and its public half."""

    pem: str
    public_pem: bytes


@pytest.fixture(scope="session")
def app_key() -> AppKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as GitHub
                            serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return AppKey(pem, public_pem)


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
