"""Signing in with GitHub, end to end: the real app (Flask's test client) against the fake GitHub's web
host and API. Who is signed in, what they see, where their token lives and when it goes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import jsonify
from sqlalchemy import select, update

from bot import retention
from bot.db import user_access_cache, user_tokens, web_sessions
from bot.web.access import current_viewer
from bot.web.csrf import HEADER
from tests.fakegithub import payloads
from tests.harness.inprocess import InProcessBot

KEY, ADMIN = "s" * 40, "a" * 40
ALICE = 1001
CALLBACK = "http://localhost/signin/callback"


@pytest.fixture
def fake(fake_github):
    """Two installations; alice reaches one repository of each, bob one of octo's."""
    fake_github.add_installation(7, "octo", ["octo/alpha", "octo/beta"])
    fake_github.add_installation(8, "other", ["other/gamma"])
    fake_github.add_user("alice", user_id=ALICE)
    fake_github.grant("alice", "octo/alpha", "other/gamma")
    fake_github.add_user("bob", user_id=1002)
    fake_github.grant("bob", "octo/beta")
    fake_github.callback_url = CALLBACK
    return fake_github


def make_bot(fake, app_key, database_url, **settings) -> InProcessBot:
    signin = dict(github_url=fake.web_url, github_client_id=fake.client_id, github_client_secret=fake.client_secret,
                  secret_keys=(KEY,), admin_token=ADMIN)
    bot = InProcessBot(fake, app_key, database_url, **{**signin, **settings})

    @bot.app.route("/test/viewer", methods=["GET", "POST"])
    def viewer():  # what current_viewer() says, for the tests
        who = current_viewer()
        if who is None:
            return jsonify(None)
        return jsonify(login=who.login, repository_ids=None if who.is_operator else sorted(who.repository_ids))

    return bot


@pytest.fixture
def bot(fake, app_key, database_url):
    bot = make_bot(fake, app_key, database_url)
    yield bot
    bot.dispose()


@pytest.fixture
def browser(bot):
    return bot.app.test_client()


def sign_in(browser, fake, login: str = "alice", *, start: str = "/signin?next=/sessions%3Fstate%3Drunning"):
    """Through GitHub's authorize page and back; the callback's response."""
    started = browser.get(start)
    assert started.status_code == 302 and started.location.startswith(fake.web_url + "/login/oauth/authorize?")
    fake.sign_in_as(login)
    approved = requests.get(started.location, allow_redirects=False, timeout=5)
    assert approved.status_code == 302, approved.text
    return browser.get(approved.headers["location"])


def seen(browser, **kw):
    return browser.get("/test/viewer", **kw).get_json()


def ids(fake, *names):
    return sorted(fake.repositories[name]["id"] for name in names)


def rows(bot, table):
    with bot.engine.connect() as conn:
        return conn.execute(select(table)).all()


def csrf_of(browser) -> str:
    page = browser.get("/account").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# -- signing in ---------------------------------------------------------------------------------------


def test_signing_in_sees_exactly_what_github_grants_and_asks_github_once(bot, browser, fake):
    done = sign_in(browser, fake)
    assert done.status_code == 302 and done.location == "/sessions?state=running"
    authorize = fake.calls("GET", "/login/oauth/authorize")[0].query
    assert authorize["code_challenge_method"] == ["S256"] and authorize["redirect_uri"] == [CALLBACK]
    assert seen(browser) == {"login": "alice", "repository_ids": ids(fake, "octo/alpha", "other/gamma")}
    assert seen(browser)["login"] == "alice"  # the cached access: GitHub is not asked again
    assert len(fake.calls("GET", "/user/installations")) == 1
    assert len(fake.calls("GET", "/user/installations/*/repositories")) == 2


def test_a_second_process_takes_the_cached_access(bot, browser, fake, app_key, database_url):
    sign_in(browser, fake)
    seen(browser)
    other = make_bot(fake, app_key, database_url)
    try:
        cookie = browser.get_cookie("session_bot")
        second = other.app.test_client()
        second.set_cookie("session_bot", cookie.value)
        assert seen(second)["repository_ids"] == ids(fake, "octo/alpha", "other/gamma")
    finally:
        other.dispose()
    assert len(fake.calls("GET", "/user/installations")) == 1


def test_the_cookie_is_http_only_lax_and_secure_off_localhost(browser, fake):
    done = sign_in(browser, fake)
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith("session_bot=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http://localhost
    elsewhere = browser.get("/signin", base_url="https://bot.example.com")
    assert "Secure" in elsewhere.headers["Set-Cookie"]


def test_the_cookie_holds_no_token_and_the_database_no_token_or_session_id(bot, browser, fake):
    sign_in(browser, fake)
    (token,) = [t.value for t in fake.users.access.values() if t.login == "alice"]
    session_id = json.loads(_cookie_payload(browser.get_cookie("session_bot").value))["sid"]
    assert token not in browser.get_cookie("session_bot").value
    raw = repr(rows(bot, user_tokens)) + repr(rows(bot, web_sessions))
    assert token not in raw and token.encode() not in bytes(rows(bot, user_tokens)[0].sealed)
    assert session_id not in raw


def _cookie_payload(value: str) -> str:
    """The JSON inside Flask's signed cookie (signed, not encrypted: which is why it holds no secret)."""
    import base64
    import zlib

    compressed, data = value.startswith("."), value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_a_callback_whose_state_does_not_match_is_refused(bot, browser, fake):
    started = browser.get("/signin")
    fake.sign_in_as("alice")
    location = requests.get(started.location, allow_redirects=False, timeout=5).headers["location"]
    query = parse_qs(urlsplit(location).query)
    forged = f"{CALLBACK}?{urlencode({'code': query['code'][0], 'state': 'not-the-state'})}"
    refused = browser.get(forged)
    assert refused.status_code == 400 and "mismatching_state" in refused.get_data(as_text=True)
    assert rows(bot, web_sessions) == [] and seen(browser) is None
    assert not fake.calls("POST", "/login/oauth/access_token")  # the code was never sent to be exchanged


def test_a_code_github_refuses_with_its_200_and_error_signs_nobody_in(bot, browser, fake):
    first = browser.get("/signin")
    fake.sign_in_as("alice")
    used = parse_qs(urlsplit(requests.get(first.location, allow_redirects=False, timeout=5).headers["location"]).query)
    browser.get(f"{CALLBACK}?{urlencode({'code': used['code'][0], 'state': used['state'][0]})}")
    browser.delete_cookie("session_bot")
    again = parse_qs(urlsplit(browser.get("/signin").location).query)
    with fake.expect_auth_failures():  # the code was used already: GitHub answers 200 with `error`
        refused = browser.get(f"{CALLBACK}?{urlencode({'code': used['code'][0], 'state': again['state'][0]})}")
    assert refused.status_code == 400 and "bad_verification_code" in refused.get_data(as_text=True)
    assert seen(browser) is None and len(rows(bot, web_sessions)) == 1  # only the first sign-in's


def test_a_callback_this_browser_did_not_start_is_refused(bot, fake):
    started = bot.app.test_client().get("/signin")
    fake.sign_in_as("alice")
    location = requests.get(started.location, allow_redirects=False, timeout=5).headers["location"]
    refused = bot.app.test_client().get(location)  # another browser: it has no sign-in under way
    assert refused.status_code == 400 and rows(bot, web_sessions) == []


def test_next_is_only_ever_a_path_on_this_site(browser, fake):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        browser.delete_cookie("session_bot")
        assert sign_in(browser, fake, start="/signin?" + urlencode({"next": target})).location == "/sessions"


def test_a_forged_or_stale_cookie_signs_nobody_in(bot, browser, fake, app_key, database_url):
    sign_in(browser, fake)
    cookie = browser.get_cookie("session_bot").value
    forged = make_bot(fake, app_key, database_url, secret_keys=("f" * 40,))
    try:
        with forged.app.test_request_context():  # a cookie naming the same session, signed with another key
            session_id = json.loads(_cookie_payload(cookie))["sid"]
            other = forged.app.session_interface.get_signing_serializer(forged.app).dumps({"sid": session_id})
    finally:
        forged.dispose()
    stranger = bot.app.test_client()
    stranger.set_cookie("session_bot", other)
    assert seen(stranger) is None
    stranger.set_cookie("session_bot", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert seen(stranger) is None
    browser.post("/signout", data={"csrf_token": csrf_of(browser)})
    stale = bot.app.test_client()
    stale.set_cookie("session_bot", cookie)  # the cookie from before signing out
    assert seen(stale) is None


def test_rotating_secret_key_keeps_people_signed_in(bot, browser, fake, app_key, database_url):
    sign_in(browser, fake)
    rotated = make_bot(fake, app_key, database_url, secret_keys=("n" * 40, KEY))
    try:
        again = rotated.app.test_client()
        again.set_cookie("session_bot", browser.get_cookie("session_bot").value)
        assert seen(again)["login"] == "alice"
    finally:
        rotated.dispose()


# -- the token: refreshed, kept or not, deleted -----------------------------------------------------------


def test_an_expiring_token_is_refreshed_and_the_new_one_used(bot, browser, fake):
    fake.user_token_lifetime = 100  # inside the bot's renewal margin: renewed on first use
    sign_in(browser, fake)
    assert seen(browser)["login"] == "alice"
    exchanges = [parse_qs(r.body.decode()) for r in fake.calls("POST", "/login/oauth/access_token")]
    assert [e["grant_type"][0] for e in exchanges] == ["authorization_code", "refresh_token"]
    live = [t.value for t in fake.users.access.values() if t.login == "alice" and not t.dead]
    used = fake.calls("GET", "/user/installations")[0].headers["authorization"]
    assert used == f"Bearer {live[0]}"


def test_sign_out_needs_the_csrf_token_and_deletes_the_token(bot, browser, fake):
    sign_in(browser, fake)
    seen(browser)
    refused = browser.post("/signout")
    assert refused.status_code == 403 and "CSRF" in refused.get_data(as_text=True)
    assert len(rows(bot, user_tokens)) == 1
    assert browser.post("/signout", data={"csrf_token": csrf_of(browser)}).status_code == 302
    assert rows(bot, web_sessions) == [] and rows(bot, user_tokens) == [] and rows(bot, user_access_cache) == []
    assert seen(browser) is None


def test_keeping_the_token_is_opt_in_and_shown(bot, browser, fake):
    sign_in(browser, fake)
    assert "not kept" in browser.get("/account").get_data(as_text=True)
    assert rows(bot, user_tokens)[0].keep is False
    kept = browser.post("/account/keep-token", data={"keep": "1", "csrf_token": csrf_of(browser)})
    assert kept.status_code == 302 and kept.location == "/account"
    assert rows(bot, user_tokens)[0].keep is True
    assert "is <strong>kept</strong>" in browser.get("/account").get_data(as_text=True)
    browser.post("/account/keep-token", headers={HEADER: csrf_of(browser)}, data={"keep": "0"})
    assert rows(bot, user_tokens)[0].keep is False


def test_a_json_post_with_the_cookie_needs_the_header_and_the_admin_token_needs_none(bot, browser, fake):
    sign_in(browser, fake)
    assert browser.post("/test/viewer", json={}).status_code == 403
    assert browser.post("/test/viewer", json={}, headers={HEADER: csrf_of(browser)}).get_json()["login"] == "alice"
    operator = bot.app.test_client().post("/test/viewer", json={}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert operator.status_code == 200 and operator.get_json() == {"login": None, "repository_ids": None}
    wrong = bot.app.test_client().post("/test/viewer", json={}, headers={"Authorization": "Bearer " + "b" * 40})
    assert wrong.get_json() is None


def test_the_revoked_webhook_deletes_the_token_and_signs_the_person_out(bot, browser, fake):
    sign_in(browser, fake)
    sign_in(bot.app.test_client(), fake, "bob")
    revoked = payloads.example("github_app_authorization", "revoked")
    revoked["sender"].update(id=ALICE, login="alice")
    assert bot.settle([("github_app_authorization", revoked)]) == [("delivery", "done")]
    assert [r.login for r in rows(bot, user_tokens)] == ["bob"]
    assert [r.login for r in rows(bot, web_sessions)] == ["bob"]
    assert seen(browser) is None


def test_a_token_github_stopped_taking_signs_the_person_out(fake, app_key, database_url):
    bot = make_bot(fake, app_key, database_url, user_access_cache_ttl=0.0)
    try:
        browser = bot.app.test_client()
        sign_in(browser, fake)
        assert seen(browser)["login"] == "alice"
        fake.revoke_user("alice")  # revoked on GitHub, and the webhook has not arrived yet
        with fake.expect_auth_failures():
            assert seen(browser) is None
        assert rows(bot, user_tokens) == [] and rows(bot, web_sessions) == []
    finally:
        bot.dispose()


def test_a_refresh_github_refuses_signs_the_person_out(fake, app_key, database_url):
    fake.user_token_lifetime = 100  # renewed on first use
    bot = make_bot(fake, app_key, database_url)
    try:
        browser = bot.app.test_client()
        sign_in(browser, fake)
        fake.revoke_user("alice")
        with fake.expect_auth_failures():
            assert seen(browser) is None
        assert rows(bot, user_tokens) == [] and rows(bot, web_sessions) == []
        (refresh,) = [parse_qs(r.body.decode()) for r in fake.calls("POST", "/login/oauth/access_token")][1:]
        assert refresh["grant_type"] == ["refresh_token"]
    finally:
        bot.dispose()


def test_uninstalling_signs_out_those_whose_only_access_it_was(bot, browser, fake):
    sign_in(browser, fake)
    bob = bot.app.test_client()
    sign_in(bob, fake, "bob")
    seen(browser), seen(bob)
    fake.installations.pop(7)  # uninstalled for real: GitHub answers 404 for it
    uninstalled = payloads.with_installation(payloads.example("installation", "deleted"), 7)
    assert bot.settle([("installation", uninstalled)]) == [("delivery", "done")]
    assert [r.login for r in rows(bot, user_tokens)] == ["alice"]  # alice still reaches other/gamma
    assert rows(bot, user_access_cache) == []  # asked again on the next page view
    assert seen(bob) is None
    assert seen(browser)["repository_ids"] == ids(fake, "other/gamma")


def test_the_idle_prune_deletes_a_token_not_kept(bot, browser, fake):
    sign_in(browser, fake)
    settings = bot.runtime.settings
    with bot.engine.begin() as conn:
        idle = web_sessions.c.last_seen_at - settings.web_session_idle - 1
        conn.execute(update(web_sessions).values(last_seen_at=idle))
    retention.prune_signin(bot.engine, settings)
    assert rows(bot, web_sessions) == [] and rows(bot, user_tokens) == []
    assert seen(browser) is None


# -- without sign-in settings -------------------------------------------------------------------------------


def test_without_settings_signin_says_how_to_enable_it(fake, app_key, database_url):
    bot = InProcessBot(fake, app_key, database_url)
    try:
        page = bot.app.test_client().get("/signin")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        for needed in ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "SECRET_KEY", CALLBACK, "ADMIN_TOKEN"):
            assert needed in text
    finally:
        bot.dispose()
