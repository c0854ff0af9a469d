"""The Agents page's HTML: every page renders, escapes outside text, carries the security headers,
has no inline script or style, keeps filters in its links, and offers Stop only to those allowed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from bot.app import create_app, runtime_of
from bot.commands import stop_requests
from bot.config import Settings
from bot.db import sessions
from bot.sessions.model import STATES
from bot.web import pages
from bot.web.viewer import Viewer
from bot.logs.reader import read_events
from bot.logs.summary import summarise
from tests import web_index
from tests.html_page import Page
from tests.agentlogs import AgentLog
from tests.agentlogs import session as agent_session

TOKEN = "operator-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE = "<img src=x onerror=alert(1)>"
STATIC = Path(pages.__file__).parent / "static"
SIGN_IN = dict(github_client_id="Iv1.x", github_client_secret="s", secret_keys=("k" * 32,))


@pytest.fixture
def make_app(tmp_path):
    """Apps on one SQLite index (the HTML is the same on PostgreSQL: tests/test_web_listing.py reads both)."""
    made = []

    def make(**settings):
        values = dict(database_url=f"sqlite:///{tmp_path}/bot.sqlite3", log_format="text", admin_token=TOKEN)
        app = create_app(Settings(**{**values, **settings}))
        made.append(app)
        return app
    yield make
    for app in made:
        runtime_of(app).dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def may_stop(monkeypatch):
    """The stop rule (bot/commands/stop_requests.py: GitHub decides a person's role), answering as a test
    says; whom it was asked about."""
    rule = type("Rule", (), {"allowed": False, "asked": []})()

    def decide(runtime, row, login):
        rule.asked.append(login)
        return rule.allowed
    monkeypatch.setattr(stop_requests, "may_stop", decide)
    return rule


@pytest.fixture
def index(app, may_stop):
    """Sessions of octo-org/app: #1 completed on PR 7, #2 running on PR 8; and one of mallory/secret."""
    engine = runtime_of(app).engine
    web_index.install(engine)
    web_index.pull(engine, 7, "Fix the thing")
    web_index.pull(engine, 8, "Add a parser")
    rows = {"done": web_index.session(engine, 1, state="completed", pr=7),
            "running": web_index.session(engine, 2, state="in_progress", pr=8),
            "mallory": web_index.session(engine, 3, state="failed", repository_id=201, starter="mallory")}
    return type("Index", (), {"engine": engine, "rows": rows, "ids": {k: r.id for k, r in rows.items()}})()


def signed_in(monkeypatch, login="monalisa", repository_ids=frozenset({101, 102})):
    """The request's viewer is a person signed in with GitHub who can see octo-org's repositories."""
    monkeypatch.setattr(pages, "current_viewer", lambda: Viewer(login=login, user_id=1, repository_ids=repository_ids))


def get(client, path, **headers):
    response = client.get(path, headers={**BEARER, **headers})
    return response, Page(response.get_data(as_text=True))


# --- `/` ---------------------------------------------------------------------------------------

def test_home_in_setup_mode_says_how_to_finish_and_shows_no_install_link(client):
    response, page = get(client, "/")
    assert response.status_code == 200
    assert "setup mode" in page.all_text and "WEBHOOK_SECRET=<the webhook secret>" in page.all_text
    assert "/api/github/webhooks" in page.all_text
    assert not page.find(id="install-link")


def test_home_of_a_configured_app_links_its_install_page_and_the_sessions(make_app, app_key):
    app = make_app(app_id=1234, private_key=app_key.pem, webhook_secrets=("s",), app_slug="my-bot",
                   github_url="https://ghe.example.com")
    _, page = get(app.test_client(), "/")
    assert "GitHub App 1234 is receiving webhooks" in " ".join(page.all_text.split())
    assert page.one("a", id="install-link")["href"] == "https://ghe.example.com/apps/my-bot/installations/new"
    assert page.one("a", id="sessions-link")["href"] == "/sessions"
    assert page.one("a", href="/", aria_current="page")


def test_home_without_a_viewer_offers_sign_in_when_it_is_configured(make_app):
    page = Page(make_app(**SIGN_IN).test_client().get("/").get_data(as_text=True))
    assert page.find("a", id="signin-link") and not page.find(id="sessions-link")


# --- `/sessions` -------------------------------------------------------------------------------

def rows_of(page: Page) -> list[tuple[str, str]]:
    return [(r["data-session-id"], r["data-state"]) for r in page.find("tr", class_="session-row")]


def test_the_list_shows_counts_rows_and_links(client, index):
    response, page = get(client, "/sessions")
    assert response.status_code == 200
    assert " ".join(page.all_text.split()).count("1 of 3 running") == 1
    ids = index.ids
    assert rows_of(page) == [(str(ids["mallory"]), "failed"), (str(ids["running"]), "in_progress"),
                             (str(ids["done"]), "completed")]
    assert page.find("a", href=f"/sessions/{ids['running']}") and "Add a parser" in page.all_text
    assert page.find("a", href="https://github.com/octo-org/app/pull/8")
    assert page.find("a", href="https://github.com/octo-org/app/actions/runs/2")
    assert page.one("time", datetime="2025-06-15T15:08:40Z")  # session 2: T0 + 2 minutes
    assert [page.one(id=f"count-{state}") for state in STATES]
    assert page.one("form", id="filters")["method"] == "get"
    assert [s["src"] for s in page.find("script")] == ["/static/sessions.js"]
    assert page.one("table", id="sessions")["data-api"] == "/api/sessions"


def test_the_page_knows_the_apis_etag_of_what_it_shows_so_its_first_poll_is_a_304(client, index):
    for query in ("", "?state=completed&per_page=1"):
        _, page = get(client, f"/sessions{query}")
        etag = page.one("table", id="sessions")["data-etag"]
        api = client.get(f"/api/sessions{query}", headers={**BEARER, "If-None-Match": etag})
        assert api.status_code == 304 and api.headers["ETag"] == etag


def test_a_person_sees_only_the_repositories_they_can_access(client, index, monkeypatch):
    signed_in(monkeypatch)
    _, page = get(client, "/sessions")
    assert [state for _, state in rows_of(page)] == ["in_progress", "completed"] and "mallory" not in page.all_text
    response, page = get(client, f"/sessions/{index.ids['mallory']}")
    assert response.status_code == 404 and "mallory" not in page.all_text


def test_state_links_keep_the_other_filters_and_start_at_the_first_page(client, index):
    _, page = get(client, "/sessions?repository=octo-org/app&person=monalisa&per_page=1")
    assert page.one("a", id="next-page")
    failed = page.one("a", data_state="failed")["href"]
    assert urlsplit(failed).path == "/sessions"
    assert parse_qs(urlsplit(failed).query) == {"repository": ["octo-org/app"], "person": ["monalisa"],
                                                "state": ["failed"], "per_page": ["1"]}
    everything = parse_qs(urlsplit(page.one("a", data_state="")["href"]).query)
    assert everything == {"repository": ["octo-org/app"], "person": ["monalisa"], "per_page": ["1"]}
    _, page = get(client, "/sessions?state=completed")
    assert page.one("a", data_state="completed")["aria-current"] == "page"
    assert rows_of(page) == [(str(index.ids["done"]), "completed")]
    assert [o["value"] for o in page.find("option") if "selected" in o] == ["completed"]


def test_the_next_page_link_carries_the_cursor_and_the_filters(client, index):
    _, page = get(client, "/sessions")
    assert not page.find(id="next-page") and not page.find(id="first-page")
    _, page = get(client, "/sessions?repository=octo-org/app&per_page=1")
    next_page = page.one("a", id="next-page")["href"]
    query = parse_qs(urlsplit(next_page).query)
    assert query.pop("cursor") and query == {"repository": ["octo-org/app"], "per_page": ["1"]}
    _, page = get(client, next_page)
    assert rows_of(page) == [(str(index.ids["done"]), "completed")] and not page.find(id="next-page")
    assert parse_qs(urlsplit(page.one("a", id="first-page")["href"]).query) == {
        "repository": ["octo-org/app"], "per_page": ["1"]}


def test_a_filter_the_page_cannot_read_is_a_400_saying_which(client, index):
    response, page = get(client, "/sessions?state=%3Cb%3Ebold")
    assert response.status_code == 400 and not page.find("b") and "state must be one of" in page.all_text


def test_without_a_viewer_no_data_and_how_to_enable_sign_in(make_app, index):
    for path in ("/sessions", f"/sessions/{index.ids['running']}"):
        response = make_app().test_client().get(path)
        page = Page(response.get_data(as_text=True))
        assert response.status_code == 200 and not page.find("tr", class_="session-row")
        assert "GITHUB_CLIENT_ID" in page.all_text and "Authorization: Bearer $ADMIN_TOKEN" in page.all_text
        assert "Add a parser" not in page.all_text
    page = Page(make_app(**SIGN_IN).test_client().get("/sessions?state=failed", headers={
        "Authorization": "Bearer wrong"}).get_data(as_text=True))
    assert page.one("a", id="signin-button")["href"] == "/signin?next=/sessions?state%3Dfailed"
    assert "GITHUB_CLIENT_ID" not in page.all_text and "mallory" not in page.all_text


# --- `/sessions/<id>` and Stop -----------------------------------------------------------------

def test_a_session_page_shows_its_timeline_summary_and_links(client, index):
    web_index.commit(index.engine, index.rows["running"], "abcdef1234", "Add the parser\n\nWith tests.",
                     at=index.rows["running"].created_at + 20)
    response, page = get(client, f"/sessions/{index.ids['running']}")
    assert response.status_code == 200
    assert page.one("article", id="session")["data-state"] == "in_progress"
    assert [li["data-kind"] for li in page.find("li") if "data-kind" in li] == ["queued", "started", "commit"]
    assert "Add the parser" in page.all_text and "abcdef1" in page.all_text
    assert page.one("p", id="log-note") and "log summary comes when the run ends" in page.all_text
    assert page.one("a", id="pull-link")["href"] == "https://github.com/octo-org/app/pull/8"
    assert not page.find(id="stop-form"), "the stop rule said no"


def test_a_finished_session_shows_its_log_summary_and_nothing_of_it_runs(client, index):
    log = AgentLog()
    agent_session(log, turns=2)
    data = summarise(read_events(log.stream())).to_dict()
    data["pr_title"] = f"Fix {HOSTILE} <script>alert(2)</script> [x](javascript:alert(3))"
    web_index.summary(index.engine, index.rows["done"], data)
    _, page = get(client, f"/sessions/{index.ids['done']}")
    assert page.one("div", id="log-summary") and page.find("details") and not page.find(id="log-note")
    assert_inert(page)
    assert f"Fix {HOSTILE} <script>alert(2)</script>" in page.all_text


def test_an_unknown_session_is_a_404(client, index):
    response, page = get(client, "/sessions/99")
    assert response.status_code == 404 and "Session not found" in page.all_text


@pytest.mark.parametrize("allowed", [True, False])
def test_the_stop_button_is_offered_only_to_people_allowed_to_stop(client, index, monkeypatch, may_stop, allowed):
    signed_in(monkeypatch)
    may_stop.allowed = allowed
    _, page = get(client, f"/sessions/{index.ids['running']}")
    assert bool(page.find("button", id="stop-button")) is allowed and may_stop.asked == ["monalisa"]
    if allowed:
        form = page.one("form", id="stop-form")
        assert form["method"] == "post" and form["action"] == f"/sessions/{index.ids['running']}/stop"
        assert len(page.find("input", type="hidden", name="csrf_token")) == 2  # and in the sign-out form
    _, page = get(client, f"/sessions/{index.ids['done']}")
    assert not page.find(id="stop-form") and may_stop.asked == ["monalisa"], "a finished session: nothing to stop"


@pytest.fixture
def stop_path(monkeypatch):
    """The stop path (bot/commands/stop_requests.py, tested there), recording what it was asked."""
    calls = type("Calls", (), {"requests": [], "reasons": [], "raises": None})()

    def request_stop(runtime, session, *, login, via, reason=None):
        calls.requests.append((session.id, login, via))
        calls.reasons.append(reason)
        if calls.raises:
            raise calls.raises

    monkeypatch.setattr(stop_requests, "request_stop", request_stop)
    return calls


@pytest.mark.parametrize("raises, outcome", [(None, "requested"), (stop_requests.AlreadyFinished("session 2 already finished"), "finished")])
def test_stop_redirects_to_the_session_page_which_shows_what_became_of_it(
        client, index, monkeypatch, stop_path, raises, outcome):
    signed_in(monkeypatch)
    stop_path.raises = raises
    session_id = index.ids["running"]
    response = client.post(f"/sessions/{session_id}/stop", data={"csrf_token": "test-csrf"})
    assert response.status_code == 303 and response.headers["Location"] == f"/sessions/{session_id}?stop={outcome}"
    assert stop_path.requests == [(session_id, "monalisa", "page")]
    _, page = get(client, response.headers["Location"])
    assert page.one(id="stop-result")["data-outcome"] == outcome


@pytest.mark.parametrize("form, reason", [
    ({}, None),
    ({"reason_choice": "wrong direction"}, "wrong direction"),
    ({"reason": "  the spec\nchanged  "}, "the spec changed"),
    ({"reason_choice": "mistake in the task", "reason": "it is issue 12, not 21"}, "mistake in the task: it is issue 12, not 21"),
    ({"reason_choice": "<b>not one of ours</b>", "reason": ""}, None),  # only the page's own choices
    ({"reason": "token ghp_" + "a" * 36}, "token [redacted]"),
])
def test_the_stop_form_offers_reasons_and_sends_the_one_given(client, index, monkeypatch, stop_path, may_stop,
                                                               form, reason):
    signed_in(monkeypatch)
    may_stop.allowed = True
    _, page = get(client, f"/sessions/{index.ids['running']}")
    assert page.one("select", id="stop-reason-choice")["name"] == "reason_choice"
    assert [option["value"] for option in page.find("option")] == [
        "", "wrong direction", "mistake in the task", "no longer needed"]
    assert page.one("input", id="stop-reason")["name"] == "reason"
    client.post(f"/sessions/{index.ids['running']}/stop", data={"csrf_token": "test-csrf", **form})
    assert stop_path.reasons == [reason]


def test_a_refused_stop_says_why_on_the_page(client, index, monkeypatch, stop_path, may_stop):
    signed_in(monkeypatch)
    stop_path.raises = stop_requests.StopRefused(f"Only writers may stop a session {HOSTILE}")
    response = client.post(f"/sessions/{index.ids['running']}/stop", data={"csrf_token": "test-csrf"})
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 403 and not page.find("img")
    assert page.one(id="stop-result")["data-outcome"] == "refused" and HOSTILE in page.all_text
    assert not page.find(id="stop-form")


def test_stop_needs_a_viewer_and_a_session_they_can_see(client, index, monkeypatch, stop_path):
    running = index.ids["running"]
    assert client.post(f"/sessions/{running}/stop").status_code == 403
    signed_in(monkeypatch)
    for session_id in (99, index.ids["mallory"]):
        assert client.post(f"/sessions/{session_id}/stop", data={"csrf_token": "test-csrf"}).status_code == 404
    assert stop_path.requests == []


def test_a_stop_without_the_pages_csrf_token_is_refused(make_app, index, monkeypatch, stop_path, may_stop):
    client = make_app(**SIGN_IN).test_client()  # the same index; a session cookie once a page is shown
    signed_in(monkeypatch)
    may_stop.allowed = True
    path = f"/sessions/{index.ids['running']}"
    page = Page(client.get(path).get_data(as_text=True))
    assert page.one("form", id="stop-form")
    token = page.find("input", name="csrf_token")[-1]["value"]
    assert token
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post(f"{path}/stop", data=data)
        assert response.status_code == 403 and "Content-Security-Policy" in response.headers
    assert stop_path.requests == []
    assert client.post(f"{path}/stop", data={"csrf_token": token}).status_code == 303
    assert len(stop_path.requests) == 1


def test_the_operators_token_stops_as_the_operator(client, index, stop_path, may_stop):
    may_stop.allowed = True
    _, page = get(client, f"/sessions/{index.ids['running']}")
    assert page.one("button", id="stop-button") and may_stop.asked == [None]
    response = client.post(f"/sessions/{index.ids['running']}/stop", headers=BEARER)
    assert response.status_code == 303 and stop_path.requests == [(index.ids["running"], None, "page")]


# --- Outside text, headers, no inline script or style ------------------------------------------

HTML_PAGES = ["/", "/sessions", "/sessions?state=completed", "/sessions/2", "/sessions/99", "/sessions?state=x"]


def assert_inert(page: Page):
    """Nothing on the page runs or loads but our own files, whatever the index held."""
    assert not page.find("img") and not page.find("iframe") and not page.find("style")
    for tag, attrs in page.elements + page.template:
        assert "style" not in attrs, (tag, attrs)
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert not (attrs.get("href") or "").strip().lower().startswith(("javascript:", "data:")), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs


def test_hostile_titles_logins_and_commit_messages_are_only_text(client, index, monkeypatch, may_stop):
    signed_in(monkeypatch, login=f"@octocat {HOSTILE}")
    may_stop.allowed = True
    engine = index.engine
    web_index.pull(engine, 9, f"{HOSTILE} <script>alert(2)</script> [x](javascript:alert(4)) @everyone")
    hostile = web_index.session(engine, 4, state="in_progress", pr=9, starter=f"@mona{HOSTILE}")
    web_index.commit(engine, hostile, "0123456789", f"{HOSTILE} [x](javascript:alert(5)) @octocat",
                     at=hostile.created_at + 10, author=f"<i>{HOSTILE}</i>")
    web_index.stop(engine, hostile, by="hubot", via="comment", outcome="cancel_requested", at=hostile.created_at + 20,
                   reason=f"<b>{HOSTILE}</b> [x](javascript:alert(6)) @octocat #12")
    for path in ("/sessions", f"/sessions/{hostile.id}"):
        response, page = get(client, path)
        assert response.status_code == 200
        assert_inert(page)
        assert not page.find("i") and not page.find("script", src=None)
        text = page.all_text
        assert f"@octocat {HOSTILE}" in text and f"@mona{HOSTILE}" in text
        assert f"{HOSTILE} <script>alert(2)</script> [x](javascript:alert(4)) @everyone" in text
        if path != "/sessions":
            assert f"{HOSTILE} [x](javascript:alert(5)) @octocat" in text and f"<i>{HOSTILE}</i>" in text
            assert not page.find("b") and f"reason: “<b>{HOSTILE}</b> [x](javascript:alert(6)) @octocat #12”" in text


@pytest.mark.parametrize("outcome, headline", [
    ("run_gone", "GitHub no longer has this session's Actions run"),
    ("unconfirmed", "GitHub has not confirmed that this session ended."),
    ("cancelled", None),
])
def test_a_stop_github_did_not_confirm_says_so_and_what_to_do(client, index, outcome, headline):
    row = index.rows["running"]
    web_index.stop(index.engine, row, by="hubot", via="page", outcome=outcome, at=row.created_at + 20,
                   reason="no longer needed")
    _, page = get(client, f"/sessions/{row.id}")
    [stop] = page.find("li", data_kind="stop")
    assert stop["data-outcome"] == outcome and "reason: “no longer needed”" in page.all_text
    if headline is None:
        assert not page.find(id="stop-advice")
    else:
        assert page.one("div", id="stop-advice") and headline in page.all_text
        assert "nothing more runs on Actions" in page.all_text.replace("Nothing", "nothing")
        assert "report it to GitHub Support" in page.all_text


def test_a_run_url_that_is_not_a_web_address_is_no_link(client, index):
    with index.engine.begin() as conn:
        conn.execute(update(sessions).values(html_url="javascript:alert(3)"))
    for path in ("/sessions", f"/sessions/{index.ids['running']}"):
        _, page = get(client, path)
        assert_inert(page)
        assert not page.find(id="run-link") and not [a for a in page.find("a", data_field="run") if "href" in a]


@pytest.mark.parametrize("path", [*HTML_PAGES, "/static/style.css", "/static/sessions.js", "/healthz", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, index, path):
    response = client.get(path, headers=BEARER)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
                      "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    expected = "no-cache" if path.startswith("/static/") else "no-store"
    assert response.headers["Cache-Control"] == expected


def test_the_policy_is_exactly_the_strict_one(client):
    assert client.get("/").headers["Content-Security-Policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@pytest.mark.parametrize("path", HTML_PAGES)
def test_no_page_has_inline_script_or_style(client, index, monkeypatch, may_stop, path):
    signed_in(monkeypatch)
    may_stop.allowed = True
    response, page = get(client, path)
    assert response.mimetype == "text/html"
    assert_inert(page)
    body = response.get_data(as_text=True)
    assert "<script>" not in body and "javascript:" not in body


def test_every_icon_the_stylesheet_draws_is_vendored_and_listed(client):
    css = client.get("/static/style.css").get_data(as_text=True)
    readme = (STATIC / "octicons" / "README.md").read_text()
    used = {line.split('url("octicons/')[1].split('"')[0] for line in css.splitlines() if 'url("octicons/' in line}
    vendored = {p.name for p in (STATIC / "octicons").glob("*.svg")}
    assert used == vendored and (STATIC / "octicons" / "LICENSE").exists()
    assert all(name.removesuffix("-16.svg") in readme for name in vendored)
    assert client.get("/static/octicons/sync-16.svg").mimetype == "image/svg+xml"
