"""Webhook intake: signature before parsing, size and shape checks, dedupe, store-and-enqueue."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import create_engine, func, select

from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.db import deliveries, jobs
from bot.jobs import NORMAL, URGENT
from bot.outbox import Outbox
from bot.webhooks import verify_signature
from tests.fakegithub import payloads

SECRET = "it's a secret"


@pytest.mark.parametrize("header, secrets, valid", [
    (payloads.sign(b"{}", SECRET), [SECRET], True),
    (payloads.sign(b"{}", SECRET), ["new secret", SECRET], True),  # rotation: old one still accepted
    (payloads.sign(b"{}", "other"), [SECRET], False),
    (payloads.sign(b"{ }", SECRET), [SECRET], False),
    (payloads.sign(b"{}", SECRET).replace("sha256=", "sha1="), [SECRET], False),
    ("", [SECRET], False),
    (None, [SECRET], False),
])
def test_verify_signature(header, secrets, valid):
    assert verify_signature(b"{}", header, secrets) is valid


@pytest.fixture
def app(settings, app_key):
    app = create_app(Settings(**{**settings.__dict__, "app_id": 1234, "private_key": app_key.pem,
                                 "webhook_secrets": (SECRET,)}))
    yield app
    runtime_of(app).dispose()


def post(app, event, body: bytes, **headers):
    signed = payloads.headers(event, body, SECRET)
    signed.update(headers)
    return app.test_client().post(app_path(app), data=body, headers=signed)


def app_path(app):
    return runtime_of(app).settings.webhook_path


def stored(app):
    with runtime_of(app).engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(deliveries)).scalar(),
                conn.execute(select(func.count()).select_from(jobs)).scalar())


def comment_body(text: str = "/session list", *, on_pull: bool = True) -> bytes:
    """GitHub's issue_comment.created example, saying `text` (a command unless told otherwise) on a PR."""
    payload = payloads.with_installation(payloads.example("issue_comment", "created"), 99)
    payload["comment"]["body"] = text
    if on_pull:
        payload["issue"]["pull_request"] = {"url": payload["issue"]["url"].replace("/issues/", "/pulls/")}
    return json.dumps(payload).encode()


def test_a_signed_delivery_is_stored_with_its_job_and_acknowledged(app):
    response = post(app, "issue_comment", comment_body(), **{"X-GitHub-Delivery": "d-1"})
    assert response.status_code == 202
    assert response.json == {"delivery": "d-1", "duplicate": False}
    with runtime_of(app).engine.connect() as conn:
        row = conn.execute(select(deliveries)).one()
        job = conn.execute(select(jobs)).one()
    assert (row.guid, row.event, row.action, row.installation_id) == ("d-1", "issue_comment", "created", 99)
    assert (job.kind, job.delivery_id, job.state) == ("delivery", row.id, "queued")
    assert job.priority == URGENT  # a person waits for a command's answer


def test_a_delivery_that_only_updates_the_index_gets_a_normal_job(app):
    body = json.dumps(payloads.with_installation(payloads.example("pull_request", "opened"), 99)).encode()
    assert post(app, "pull_request", body).status_code == 202
    with runtime_of(app).engine.connect() as conn:
        assert conn.execute(select(jobs.c.priority)).scalar_one() == NORMAL


@pytest.mark.parametrize("event, body", [
    ("issue_comment", payloads.example("issue_comment", "created")),  # GitHub's example: no command, not on a PR
    ("issue_comment", json.loads(comment_body("Looks good, thanks!"))),
    ("issue_comment", json.loads(comment_body("/session list", on_pull=False))),
    ("issue_comment", {**json.loads(comment_body()), "sender": {"login": "ci[bot]", "id": 7, "type": "Bot"}}),
    ("star", payloads.example("star", "created")),  # no handler for the event at all
])
def test_a_delivery_no_handler_wants_is_stored_as_ignored_without_a_job_or_its_body(app, event, body):
    response = post(app, event, json.dumps(body).encode(), **{"X-GitHub-Delivery": "d-ignored"})
    assert response.status_code == 202 and response.json == {"delivery": "d-ignored", "duplicate": False}
    with runtime_of(app).engine.connect() as conn:
        row = conn.execute(select(deliveries)).one()
    assert (row.guid, row.outcome, row.body) == ("d-ignored", "ignored", b"") and row.processed_at >= row.received_at
    assert stored(app) == (1, 0)


@pytest.mark.parametrize("comment", [
    {"id": 1, "body": ["not", "text"]},  # the test cannot read it: the job's shape check will say why
    "not an object",
])
def test_a_payload_the_wants_test_cannot_read_still_gets_a_job(app, comment):
    body = {**json.loads(comment_body()), "comment": comment}
    assert post(app, "issue_comment", json.dumps(body).encode()).status_code == 202
    assert stored(app) == (1, 1)


def test_the_same_delivery_twice_is_processed_once(app):
    body = comment_body()
    assert post(app, "issue_comment", body, **{"X-GitHub-Delivery": "d-2"}).json["duplicate"] is False
    again = post(app, "issue_comment", body, **{"X-GitHub-Delivery": "d-2"})
    assert again.status_code == 202 and again.json["duplicate"] is True
    assert stored(app) == (1, 1)


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, payloads.sign(b"other body", SECRET)])
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(app, signature):
    headers = payloads.headers("issue_comment", comment_body(), SECRET)
    del headers["X-Hub-Signature-256"]
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = app.test_client().post(app_path(app), data=comment_body(), headers=headers)
    assert response.status_code == 401
    assert stored(app) == (0, 0)


def test_an_oversized_body_is_refused_before_it_is_read(app):
    class Unreadable(io.RawIOBase):
        def read(self, *_):
            raise AssertionError("the intake read an oversized body")

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": app_path(app), "CONTENT_LENGTH": str(26 * 1024 * 1024),
               "CONTENT_TYPE": "application/json", "wsgi.input": Unreadable(), "HTTP_X_GITHUB_EVENT": "push"}
    answers = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers: answers.append(status)))
    assert answers == ["413 Content Too Large"] and b"25 MB" in body
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("body, content_type, status", [
    (b"not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "application/json", 400),  # too deep to parse
    (b"payload=%7B%7D", "application/x-www-form-urlencoded", 415),
])
def test_malformed_bodies_get_a_clear_4xx(app, body, content_type, status):
    response = post(app, "issues", body, **{"Content-Type": content_type})
    assert response.status_code == status and response.json["error"]
    assert stored(app) == (0, 0)


def test_missing_event_or_delivery_headers_are_a_400(app):
    body = comment_body()
    response = app.test_client().post(app_path(app), data=body, headers={
        "X-Hub-Signature-256": payloads.sign(body, SECRET), "Content-Type": "application/json"})
    assert response.status_code == 400


def test_ping_is_answered_and_not_stored(app):
    response = post(app, "ping", json.dumps(payloads.example("ping")).encode())
    assert response.status_code == 200
    assert stored(app) == (0, 0)


def test_an_unreachable_database_is_a_503(app):
    app.wsgi_app.outbox = Outbox(create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"))
    response = post(app, "issue_comment", comment_body())
    assert response.status_code == 503


def test_setup_mode_refuses_webhooks_and_stores_nothing(settings):
    app = create_app(settings)
    body = comment_body()
    response = app.test_client().post(app_path(app), data=body, headers=payloads.headers("issue_comment", body, "x"))
    assert response.status_code == 503 and "setup mode" in response.json["error"]
    assert stored(app) == (0, 0)
    assert b"setup mode" in app.test_client().get("/").data
