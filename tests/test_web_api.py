"""The JSON API (bot/web/api.py) through Flask's test client: every answer checked against docs/openapi.yaml."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from flask import Response

from bot.app import create_app, runtime_of
from bot.commands import stop_requests
from bot.config import Settings
from bot.errors import TransientError
from bot.web import access
from bot.web.csrf import HEADER
from bot.web.viewer import Viewer
from tests import web_index
from tests.openapi_check import conforms, spec
from tests.test_web_signin import csrf_of, make_bot, sign_in

TOKEN = "admin-" + "x" * 32
OPERATOR_HEADERS = {"Authorization": f"Bearer {TOKEN}"}
OCTO = Viewer(login="monalisa", user_id=1, repository_ids=frozenset({101, 102}))


@pytest.fixture
def app(settings):
    app = create_app(Settings(**{**settings.__dict__, "admin_token": TOKEN}))
    web_index.install(runtime_of(app).engine)
    yield app
    runtime_of(app).dispose()


@pytest.fixture
def engine(app):
    return runtime_of(app).engine


class Api:
    """The test client, checking each answer against the OpenAPI document before the test sees it."""

    def __init__(self, app, headers: dict, client=None):
        self.client, self.headers = client or app.test_client(), headers

    def get(self, path: str, **headers):
        return self._checked("GET", path, headers)

    def post(self, path: str, *, data: str | bytes | None = None, content_type: str | None = None, **headers):
        return self._checked("POST", path, headers, data=data, content_type=content_type)

    def _checked(self, method: str, path: str, headers: dict, **body):
        response = self.client.open(path, method=method, headers={**self.headers, **headers}, **body)
        conforms(response, method, path)
        return response


@pytest.fixture
def api(app):
    return Api(app, OPERATOR_HEADERS)


@pytest.fixture
def as_octo(app, monkeypatch):
    """A person who sees octo-org's repositories only (as sign-in would make them)."""
    monkeypatch.setattr(access, "current_viewer", lambda: OCTO)
    return Api(app, {})


def test_without_a_viewer_every_route_answers_401(app, engine):
    row = web_index.session(engine, 1, state="in_progress")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        nobody = Api(app, headers)
        for method, path in (("GET", "/api/sessions"), ("GET", f"/api/sessions/{row.id}"),
                             ("POST", f"/api/sessions/{row.id}/stop")):
            response = nobody._checked(method, path, {})
            assert response.status_code == 401 and "ADMIN_TOKEN" in response.json["message"]


def test_the_list_shows_sessions_counts_and_repositories(api, engine):
    web_index.pull(engine, 7, "Fix <b>login</b>")
    web_index.session(engine, 1, pr=7)
    web_index.session(engine, 2, state="in_progress", repository_id=201)
    body = api.get("/api/sessions").json
    assert [s["repository"] for s in body["sessions"]] == ["mallory/secret", "octo-org/app"]
    assert body["total_count"] == 2 and body["next_cursor"] is None
    assert {c["state"]: c["count"] for c in body["counts"]}["in_progress"] == 1
    first = body["sessions"][1]
    assert first["pull_request"] == {"number": 7, "title": "Fix <b>login</b>",
                                     "html_url": "https://github.com/octo-org/app/pull/7"}
    assert first["created_at"] == "2025-06-15T15:07:40Z" and first["state_label"] == "completed"
    assert urlsplit(first["url"]).path == f"/api/sessions/{first['id']}"
    assert urlsplit(first["html_url"]).path == f"/sessions/{first['id']}"


def test_an_unchanged_list_answers_304_with_no_body(api, engine):
    row = web_index.session(engine, 1, state="in_progress")
    first = api.get("/api/sessions")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache" and "Authorization" in first.headers["Vary"]
    again = api.get("/api/sessions", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    web_index.session(engine, row.run_id, state="completed")
    changed = api.get("/api/sessions", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json["sessions"][0]["state"] == "completed"
    # The same for one session.
    one = api.get(f"/api/sessions/{row.id}")
    assert api.get(f"/api/sessions/{row.id}", **{"If-None-Match": one.headers["ETag"]}).status_code == 304


def test_link_headers_page_through_everything_once(api, engine):
    for run_id in range(1, 12):
        web_index.session(engine, run_id, created=web_index.T0 + (run_id // 4) * 60)  # ties broken by id
    seen, path, pages = [], "/api/sessions?per_page=3&state=completed", 0
    while path:
        response = api.get(path)
        seen += [s["id"] for s in response.json["sessions"]]
        pages += 1
        link = response.headers.get("Link")
        assert (link is None) == (response.json["next_cursor"] is None)
        if link:
            url = urlsplit(link[1:link.index(">")])
            assert url.netloc == "localhost" and "state=completed" in url.query and "per_page=3" in url.query
            path = f"{url.path}?{url.query}"
        else:
            path = None
    assert pages == 4 and len(seen) == len(set(seen)) == 11 and seen == sorted(seen, reverse=True)


def test_title_search_with_percent_and_underscore(api, engine):
    for number, title in ((1, "Cut 100% of waste"), (2, "Cut 1000 of waste"), (3, "rename foo_bar"),
                          (4, "rename fooXbar")):
        web_index.pull(engine, number, title)
        web_index.session(engine, number, pr=number)
    def titles(q):
        return [s["pull_request"]["title"] for s in api.get(f"/api/sessions?q={q}").json["sessions"]]
    assert titles("100%25") == ["Cut 100% of waste"]
    assert titles("foo_bar") == ["rename foo_bar"]
    assert titles("%25") == ["Cut 100% of waste"] and titles("_") == ["rename foo_bar"]


@pytest.mark.parametrize("query, word", [("state=running", "state"), ("repository=nope", "repository"),
                                         ("person=a%20b", "person"), ("q=" + "x" * 300, "q"),
                                         ("q=nul%00", "q"), ("cursor=garbage", "cursor"), ("per_page=1000", "per_page")])
def test_a_bad_filter_is_400_saying_which(api, query, word):
    response = api.get(f"/api/sessions?{query}")
    assert response.status_code == 400 and response.json["message"].startswith(word + " ")


def test_a_restricted_viewer_sees_only_its_repositories(as_octo, engine):
    web_index.session(engine, 1, repository_id=101)
    web_index.session(engine, 2, repository_id=102)
    web_index.session(engine, 3, repository_id=201, state="in_progress")
    body = as_octo.get("/api/sessions").json
    assert {s["repository"] for s in body["sessions"]} == {"octo-org/app", "octo-org/docs"}
    assert body["repositories"] == ["octo-org/app", "octo-org/docs"] and body["total_count"] == 2
    assert as_octo.get("/api/sessions?repository=mallory/secret").json["total_count"] == 0
    assert as_octo.get("/api/sessions?state=in_progress").json["sessions"] == []


def test_ids_guessed_across_installations_are_404_like_ids_that_do_not_exist(as_octo, engine, monkeypatch):
    theirs = web_index.session(engine, 1, repository_id=201, state="in_progress")
    mine = web_index.session(engine, 2, repository_id=101, state="in_progress")
    monkeypatch.setattr(stop_requests, "request_stop", lambda *a, **k: pytest.fail("no stop may be asked"))
    monkeypatch.setattr(stop_requests, "may_stop", lambda runtime, found, login: False)
    answers = set()
    for guess in (theirs.id, theirs.id + 1000, 0, -1, "abc", "1e3", "٣", 2**63, 10**30):
        for method, path in (("GET", f"/api/sessions/{guess}"), ("POST", f"/api/sessions/{guess}/stop")):
            response = as_octo._checked(method, path, {})
            answers.add((response.status_code, response.data))
    assert answers == {(404, b'{"message":"Not Found"}\n')}
    assert as_octo.get(f"/api/sessions/{mine.id}").json["repository"] == "octo-org/app"


def test_a_session_with_its_timeline(api, engine):
    row = web_index.session(engine, 1, state="cancelled", pr=7)
    web_index.commit(engine, row, "a" * 40, "Plan the work\n\ndetails", at=row.created_at + 10)
    web_index.stop(engine, row, by="hubot", via="page", outcome="cancelled", at=row.created_at + 20)
    body = api.get(f"/api/sessions/{row.id}").json
    assert [(e["kind"], e["who"], e["via"]) for e in body["timeline"]] == [
        ("queued", None, None), ("started", None, None), ("commit", "Copilot", None), ("stop", "hubot", "page"),
        ("finished", None, None)]
    assert body["log_html"] is None and "No summary" in body["log_note"] and body["can_stop"] is False


def test_stop_records_the_stop_and_answers_202_with_the_session(api, engine):
    row = web_index.session(engine, 1, state="in_progress", pr=7)
    before = api.get(f"/api/sessions/{row.id}")
    assert before.json["can_stop"] is True  # the operator may stop anything
    response = api.post(f"/api/sessions/{row.id}/stop")
    assert response.status_code == 202
    assert [(e["kind"], e["who"], e["via"], e["outcome"]) for e in response.json["timeline"]][-1] == (
        "stop", "operator", "page", "sending")
    again = api.post(f"/api/sessions/{row.id}/stop")  # a second press: the first stop, not a second
    assert [e["kind"] for e in again.json["timeline"]].count("stop") == 1
    assert api.get(f"/api/sessions/{row.id}", **{"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_a_stop_takes_an_optional_reason_in_a_json_body(api, engine):
    row = web_index.session(engine, 1, state="in_progress", pr=7)
    hostile = "<b>wrong</b>\n direction @octocat ghp_" + "a" * 36
    response = api.post(f"/api/sessions/{row.id}/stop", data=json.dumps({"reason": hostile}),
                        content_type="application/json")
    assert response.status_code == 202
    [stop] = [e for e in response.json["timeline"] if e["kind"] == "stop"]
    assert stop["reason"] == "<b>wrong</b> direction @octocat [redacted]", "redacted, one line, kept as text"
    assert "reason: “<b>wrong</b> direction @octocat [redacted]”" in stop["text"]
    assert response.json["stop_advice"] is None


@pytest.mark.parametrize("data, content_type, status", [
    ("[]", "application/json", 400),
    ('{"reason": 3}', "application/json", 400),
    ('{"reason": "x"}', "text/plain", 400),
    ("{", "application/json", 400),
    (json.dumps({"reason": "x" * 20_000}), "application/json", 413),
])
def test_a_stop_body_that_is_not_a_reason_is_refused_and_stops_nothing(api, engine, data, content_type, status):
    row = web_index.session(engine, 1, state="in_progress", pr=7)
    response = api.post(f"/api/sessions/{row.id}/stop", data=data, content_type=content_type)
    assert response.status_code == status and response.json["message"]
    assert [e["kind"] for e in api.get(f"/api/sessions/{row.id}").json["timeline"]].count("stop") == 0


def test_stop_advice_when_github_did_not_confirm_the_stop(api, engine):
    row = web_index.session(engine, 1, state="in_progress", pr=7)
    web_index.stop(engine, row, by="hubot", via="comment", outcome="run_gone", at=row.created_at + 20)
    body = api.get(f"/api/sessions/{row.id}").json
    assert body["timeline"][-1]["outcome"] == "run_gone" and "its run is gone" in body["timeline"][-1]["text"]
    assert body["stop_advice"]["headline"].startswith("GitHub no longer has this session's Actions run")
    assert "report it to GitHub Support" in body["stop_advice"]["advice"]


def test_stop_refused_is_403_and_a_finished_session_is_409(as_octo, api, engine, monkeypatch):
    running = web_index.session(engine, 1, state="in_progress")
    finished = web_index.session(engine, 2, state="completed")
    monkeypatch.setattr(stop_requests, "may_stop", lambda runtime, found, login: False)
    monkeypatch.setattr(stop_requests, "refusal", lambda runtime, found: "Only people with write access may stop a session.")
    refused = as_octo.post(f"/api/sessions/{running.id}/stop")
    assert refused.status_code == 403 and refused.json["message"] == "Only people with write access may stop a session."
    assert as_octo.get(f"/api/sessions/{running.id}").json["can_stop"] is False
    done = api.post(f"/api/sessions/{finished.id}/stop")
    assert done.status_code == 409 and "already finished" in done.json["message"]


def test_a_stop_rule_github_cannot_answer_now_hides_the_button(as_octo, engine, monkeypatch):
    row = web_index.session(engine, 1, state="in_progress")
    def unreachable(runtime, found, login):
        raise TransientError("GitHub is down")
    monkeypatch.setattr(stop_requests, "may_stop", unreachable)
    assert as_octo.get(f"/api/sessions/{row.id}").json["can_stop"] is False


def test_the_document_describes_exactly_the_apis_routes(app):
    routes = {(rule.rule.replace("<session_id>", "{session_id}").replace("<task_id>", "{task_id}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, item in spec()["paths"].items() for method in item if method != "parameters"}
    assert routes == described


@pytest.mark.parametrize("status, body, headers", [
    (200, {"total_count": "2"}, {"ETag": '"x"'}),  # not a SessionList
    (200, None, {}),  # no ETag, no body
    (304, {"message": "a body"}, {"ETag": '"x"'}),  # 304 has none
    (418, {"message": "teapot"}, {}),  # not an answer the document lists
])
def test_the_checker_refuses_an_answer_the_document_does_not_give(status, body, headers):
    response = Response(b"" if body is None else json.dumps(body), status=status, headers=headers,
                        mimetype="application/json")
    with pytest.raises(AssertionError):
        conforms(response, "GET", "/api/sessions")


def test_a_signed_in_person_sees_and_stops_only_what_github_grants(fake_github, app_key, database_url):
    fake_github.add_installation(7, "octo", ["octo/alpha", "octo/beta"])
    fake_github.add_user("alice", user_id=1001)
    fake_github.grant("alice", "octo/alpha")
    fake_github.permissions[("octo/alpha", "alice")] = "read"  # her role there, as /session stop asks it
    fake_github.callback_url = "http://localhost/signin/callback"
    alpha, beta = (fake_github.repositories[name]["id"] for name in ("octo/alpha", "octo/beta"))
    bot = make_bot(fake_github, app_key, database_url)
    try:
        browser = bot.app.test_client()
        sign_in(browser, fake_github)
        alice = Api(bot.app, {}, client=browser)
        mine = web_index.session(bot.engine, 1, repository_id=alpha, elsewhere=(7, "octo/alpha"), state="in_progress")
        theirs = web_index.session(bot.engine, 2, repository_id=beta, elsewhere=(7, "octo/beta"), state="in_progress")
        assert [s["id"] for s in alice.get("/api/sessions").json["sessions"]] == [mine.id]
        assert alice.get(f"/api/sessions/{mine.id}").json["can_stop"] is False
        assert alice.get(f"/api/sessions/{theirs.id}").status_code == 404
        # The cookie's authority without the page's CSRF token: refused, in JSON, before anything is read.
        for session in (mine, theirs):
            forged = alice.post(f"/api/sessions/{session.id}/stop")
            assert forged.status_code == 403 and "CSRF" in forged.json["message"]
        token = {HEADER: csrf_of(browser)}
        assert alice.post(f"/api/sessions/{theirs.id}/stop", **token).status_code == 404
        refused = alice.post(f"/api/sessions/{mine.id}/stop", **token)  # she can read it, not write
        assert refused.status_code == 403 and refused.json["message"].startswith("Only people with write access")
        hers = web_index.session(bot.engine, 3, repository_id=alpha, elsewhere=(7, "octo/alpha"), state="in_progress",
                                 starter="alice")
        assert alice.get(f"/api/sessions/{hers.id}").json["can_stop"] is True  # who started it may stop it
        stopped = alice.post(f"/api/sessions/{hers.id}/stop", **token)
        assert stopped.status_code == 202, stopped.json
        assert [(e["kind"], e["who"], e["via"]) for e in stopped.json["timeline"]][-1] == ("stop", "alice", "page")
    finally:
        bot.dispose()
