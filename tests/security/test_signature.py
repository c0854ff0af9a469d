"""The webhook signature: checked over the raw body before anything parses it, in constant time,
under every secret of a rotation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

import bot.webhooks
from bot.app import create_app, runtime_of
from bot.config import load_settings
from bot.db import deliveries
from bot.webhooks import verify_signature
from tests.fakegithub import payloads

NEW, OLD, OTHER = "new-secret", "old-secret", "not-a-secret-of-ours"


@pytest.fixture
def app(database_url, app_key):
    settings = load_settings({"APP_ID": "1234", "PRIVATE_KEY": app_key.pem, "WEBHOOK_SECRET": f"{NEW},{OLD}",
                              "DATABASE_URL": database_url, "LOG_FORMAT": "text"}, dotenv=None)
    app = create_app(settings)
    yield app
    runtime_of(app).dispose()


def post(app, body: bytes, secret: str):
    return app.test_client().post(runtime_of(app).settings.webhook_path, data=body,
                                  headers=payloads.headers("issue_comment", body, secret))


def stored(app) -> int:
    with runtime_of(app).engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(deliveries)).scalar()


def test_a_bad_signature_is_refused_before_the_body_is_parsed(app, monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("the body was parsed before its signature was checked")

    monkeypatch.setattr(bot.webhooks.json, "loads", no_parsing)
    response = post(app, b"{not json", OTHER)
    assert response.status_code == 401  # not 400: an unsigned body is not even looked at
    assert stored(app) == 0


def test_the_signature_is_compared_in_constant_time_under_every_secret(app, monkeypatch):
    compared = []
    real = bot.webhooks.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(bot.webhooks.hmac, "compare_digest", spy)
    body = json.dumps(payloads.with_installation(payloads.example("issue_comment", "created"), 99)).encode()
    assert post(app, body, NEW).status_code == 202
    # Both secrets were tried, though the first matched: no early exit tells which one did.
    assert len(compared) == 2
    given = payloads.sign(body, NEW).removeprefix("sha256=").encode()
    assert all(b == given for _, b in compared)


@pytest.mark.parametrize("secret, status", [(NEW, 202), (OLD, 202), (OTHER, 401)])
def test_during_rotation_both_secrets_verify_and_a_third_does_not(app, secret, status):
    body = json.dumps(payloads.with_installation(payloads.example("issue_comment", "created"), 99)).encode()
    assert runtime_of(app).settings.webhook_secrets == (NEW, OLD)
    assert post(app, body, secret).status_code == status
    assert stored(app) == (1 if status == 202 else 0)


def test_a_signature_of_another_body_or_algorithm_never_verifies():
    body = b'{"action": "created"}'
    assert verify_signature(body, payloads.sign(body, OLD), [NEW, OLD])
    assert not verify_signature(body + b" ", payloads.sign(body, OLD), [NEW, OLD])
    assert not verify_signature(body, "sha1=" + payloads.sign(body, OLD).removeprefix("sha256="), [NEW, OLD])
    assert not verify_signature(body, payloads.sign(body, OLD).upper(), [NEW, OLD])
    assert not verify_signature(body, "sha256=", [NEW, OLD])
