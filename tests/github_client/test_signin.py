"""A person's side of the GitHub edge: the OAuth web flow on GitHub's web host (bot/github/oauth.py,
Authlib) and clients carrying a user access token (GitHub.user), against the fake GitHub."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.github import api
from bot.github.errors import GitHubError
from bot.github.oauth import OAuthRefused, OAuthUnavailable, WebFlow
from tests.github_client import INSTALLATION, REPO, closed_port_url

CALLBACK = "http://127.0.0.1:5000/signin/callback"


@pytest.fixture
def flow(fake_github, clock):
    fake_github.add_user("monalisa", user_id=4242)
    fake_github.sign_in_as("monalisa")
    return WebFlow(fake_github.web_url, fake_github.client_id, fake_github.client_secret, clock=clock)


def approve(flow) -> tuple[str, object]:
    """Authorize at the fake (signed in as monalisa): the callback URL it redirects to, and the request."""
    authorization = flow.authorize(CALLBACK)
    answer = requests.get(authorization.url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["location"], authorization


def exchange(flow, callback: str, authorization, **kw):
    return flow.exchange(callback, state=kw.get("state", authorization.state),
                         code_verifier=kw.get("verifier", authorization.code_verifier), redirect_uri=CALLBACK)


def test_the_authorize_url_carries_a_state_and_a_pkce_s256_challenge(flow, fake_github):
    authorization = flow.authorize(CALLBACK)
    query = parse_qs(urlsplit(authorization.url).query)
    assert authorization.url.startswith(fake_github.web_url + "/login/oauth/authorize?")
    assert query["client_id"] == [fake_github.client_id] and query["redirect_uri"] == [CALLBACK]
    assert query["state"] == [authorization.state] and query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] != authorization.code_verifier and len(authorization.code_verifier) >= 43
    assert flow.authorize(CALLBACK).state != authorization.state


def test_a_code_becomes_a_token_with_its_expiries_and_the_token_is_a_persons(flow, github, fake_github, clock):
    callback, authorization = approve(flow)
    token = exchange(flow, callback, authorization)
    assert token.access_token.startswith("ghu_") and token.refresh_token.startswith("ghr_")
    assert token.expires_at == clock() + fake_github.user_token_lifetime
    assert token.refresh_expires_at == clock() + fake_github.refresh_token_lifetime
    assert token.access_token not in repr(token)
    person = github.user(token.access_token)
    assert api.authenticated_user(person)["id"] == 4242
    assert fake_github.calls("GET", "/user")[0].headers["authorization"] == f"Bearer {token.access_token}"


def test_the_state_is_checked_before_the_code_is_sent(flow, fake_github):
    callback, authorization = approve(flow)
    with pytest.raises(OAuthRefused) as refused:
        exchange(flow, callback, authorization, state="another")
    assert refused.value.error == "mismatching_state"
    assert not fake_github.calls("POST", "/login/oauth/access_token")


def test_githubs_200_with_an_error_is_a_refusal(flow, fake_github):
    callback, authorization = approve(flow)
    with fake_github.expect_auth_failures(), pytest.raises(OAuthRefused) as refused:
        exchange(flow, callback, authorization, verifier="a-verifier-that-is-not-the-one-sent-0123456789")
    assert refused.value.error == "bad_verification_code"


def test_a_declined_authorization_is_a_refusal(flow):
    with pytest.raises(OAuthRefused) as refused:
        flow.exchange(f"{CALLBACK}?error=access_denied&state=s", state="s", code_verifier="v", redirect_uri=CALLBACK)
    assert refused.value.error == "access_denied"


def test_a_refresh_rotates_the_pair_and_a_used_refresh_token_is_refused(flow, fake_github):
    callback, authorization = approve(flow)
    first = exchange(flow, callback, authorization)
    second = flow.refresh(first.refresh_token)
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    with fake_github.expect_auth_failures(), pytest.raises(OAuthRefused) as refused:
        flow.refresh(first.refresh_token)
    assert refused.value.error == "bad_refresh_token"


def test_an_unreachable_web_host_is_unavailable_not_a_refusal(fake_github):
    flow = WebFlow(closed_port_url(), fake_github.client_id, fake_github.client_secret, timeout=(1.0, 1.0))
    with pytest.raises(OAuthUnavailable):
        flow.refresh("ghr_anything")


def test_a_user_client_lists_what_the_person_and_the_app_share(flow, github, fake_github):
    fake_github.add_installation(88, "elsewhere", ["elsewhere/other"])
    fake_github.grant("monalisa", REPO)
    callback, authorization = approve(flow)
    person = github.user(exchange(flow, callback, authorization).access_token)
    installations = list(api.user_installations(person))
    assert [i["id"] for i in installations] == [INSTALLATION]
    assert [r["full_name"] for r in api.user_installation_repositories(person, INSTALLATION)] == [REPO]


def test_a_refused_user_token_is_final_and_never_replaced_by_the_apps_credentials(flow, github, fake_github):
    callback, authorization = approve(flow)
    person = github.user(exchange(flow, callback, authorization).access_token)
    fake_github.revoke_user("monalisa")
    with fake_github.expect_auth_failures(), pytest.raises(GitHubError) as refused:
        api.authenticated_user(person)
    assert refused.value.status == 401 and len(fake_github.calls("GET", "/user")) == 1
    with pytest.raises(ValueError):
        github.user("")
    with pytest.raises(ValueError, match="outside"):
        person.get("https://elsewhere.example/user")
