"""The fake GitHub's web host signs people in as GitHub does: the OAuth web application flow of a
GitHub App (authorize → code → token), PKCE, single-use codes, refresh tokens that rotate."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakegithub.credentials import REPOS, as_user

CALLBACK = "http://127.0.0.1:5000/auth/callback"
VERIFIER = "a-verifier-long-enough-for-rfc-7636-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")


@pytest.fixture
def mona(github):
    """The checked fake, with monalisa able to reach two of acme's three repositories, signed in."""
    github.add_user("monalisa", name="Mona Lisa")
    github.grant("monalisa", "acme/widgets", "acme/gadgets", "elsewhere/private")
    github.sign_in_as("monalisa")
    return github


def authorize(fake, **query) -> requests.Response:
    query = {"client_id": fake.client_id, "redirect_uri": CALLBACK, "state": "s-1",
             "code_challenge": CHALLENGE, "code_challenge_method": "S256", **query}
    return requests.get(f"{fake.web_url}/login/oauth/authorize",
                        params={k: v for k, v in query.items() if v is not None},
                        allow_redirects=False, timeout=5)


def code_of(response: requests.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def exchange(fake, code: str | None = None, *, json_answer: bool = True, **form) -> dict | str:
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret, "code": code,
            "redirect_uri": CALLBACK, "code_verifier": VERIFIER, **form}
    headers = {"Accept": "application/json"} if json_answer else {}
    response = requests.post(f"{fake.web_url}/login/oauth/access_token", timeout=5, headers=headers,
                             data={k: v for k, v in form.items() if v is not None})
    assert response.status_code == 200  # GitHub answers its token errors with 200 too
    return response.json() if json_answer else response.text


def sign_in(fake) -> dict:
    return exchange(fake, code_of(authorize(fake)))


# The whole flow


def test_the_web_flow_signs_a_person_in_and_their_token_reaches_what_they_and_the_app_share(mona):
    assert mona.client_id.startswith("Iv23li") and re.fullmatch(r"[0-9a-f]{40}", mona.client_secret)
    assert urlsplit(mona.web_url).hostname == "127.0.0.1" and mona.web_url != mona.url
    redirect = authorize(mona)
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert parse_qs(location.query)["state"] == ["s-1"]

    tokens = exchange(mona, code_of(redirect))

    assert set(tokens) == {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
                           "scope", "token_type"}
    assert re.fullmatch(r"ghu_[A-Za-z0-9]{36}", tokens["access_token"])
    assert re.fullmatch(r"ghr_[A-Za-z0-9]{76}", tokens["refresh_token"])
    assert (tokens["expires_in"], tokens["refresh_token_expires_in"]) == (28800, 15897600)
    assert (tokens["scope"], tokens["token_type"]) == ("", "bearer")
    headers = as_user(tokens["access_token"])
    user = requests.get(f"{mona.url}/user", headers=headers, timeout=5).json()
    assert (user["login"], user["name"], user["type"]) == ("monalisa", "Mona Lisa", "User")
    installations = requests.get(f"{mona.url}/user/installations", headers=headers, timeout=5).json()
    assert (installations["total_count"], [i["id"] for i in installations["installations"]]) == (1, [7])
    repositories = requests.get(f"{mona.url}/user/installations/7/repositories", headers=headers,
                                timeout=5).json()
    assert [r["full_name"] for r in repositories["repositories"]] == ["acme/gadgets", "acme/widgets"]
    assert repositories["total_count"] == 2
    web = [(c.host, c.method, c.path, c.status) for c in mona.calls(path="/login/oauth/*")]
    assert web == [("web", "GET", "/login/oauth/authorize", 302),
                   ("web", "POST", "/login/oauth/access_token", 200)]
    assert mona.calls("GET", "/user")[0].auth_kind == "user"


def test_the_token_answer_is_a_form_body_unless_json_is_accepted(mona):
    answer = exchange(mona, code_of(authorize(mona)), json_answer=False)
    fields = parse_qs(answer, keep_blank_values=True)
    assert fields["token_type"] == ["bearer"] and fields["scope"] == [""]
    assert fields["access_token"][0].startswith("ghu_")


def test_client_credentials_may_come_by_http_basic(mona):
    code = code_of(authorize(mona))
    response = requests.post(f"{mona.web_url}/login/oauth/access_token", timeout=5,
                             auth=(mona.client_id, mona.client_secret), headers={"Accept": "application/json"},
                             data={"code": code, "code_verifier": VERIFIER, "grant_type": "authorization_code"})
    assert response.json()["access_token"].startswith("ghu_")


def test_pkce_is_optional_as_on_github(mona):
    code = code_of(authorize(mona, code_challenge=None, code_challenge_method=None, state=None))
    assert exchange(mona, code, code_verifier=None)["token_type"] == "bearer"


# Who is signed in


def test_with_nobody_signed_in_the_page_asks_to_sign_in_and_its_form_signs_in(github):
    github.add_user("hubot")
    page = authorize(github)
    assert page.status_code == 200 and "Sign in to GitHub" in page.text
    session = requests.Session()
    wrong = session.post(f"{github.web_url}/session", timeout=5,
                         data={"login": "nobody", "return_to": "/login/oauth/authorize?x=1"})
    assert "Incorrect username or password." in wrong.text
    return_to = re.search(r'name="return_to" value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    back = session.post(f"{github.web_url}/session", data={"login": "hubot", "return_to": return_to},
                        allow_redirects=False, timeout=5)
    assert back.headers["location"].startswith("/login/oauth/authorize?")
    assert code_of(authorize(github))


def test_a_login_hint_naming_someone_else_asks_to_sign_in(mona):
    assert "Sign in to GitHub" in authorize(mona, login="hubot").text
    assert authorize(mona, login="MonaLisa").status_code == 302


def test_signing_in_as_an_unknown_person_is_a_test_mistake(github):
    with pytest.raises(KeyError, match="add_user"):
        github.sign_in_as("ghost")


# Refusals at authorize


def test_an_unknown_client_gets_an_error_page_and_is_a_problem(fake):
    fake.add_user("monalisa")
    fake.sign_in_as("monalisa")
    page = authorize(fake, client_id="Iv23liUnknown")
    assert (page.status_code, page.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert fake.problems() == ["web GET /login/oauth/authorize: unknown client_id 'Iv23liUnknown'"]


def test_a_redirect_uri_outside_the_callback_url_is_sent_back_with_redirect_uri_mismatch(mona):
    mona.callback_url = "http://127.0.0.1:5000/auth"
    assert code_of(authorize(mona))  # a subdirectory of the callback URL is accepted
    with mona.expect_auth_failures():
        refused = authorize(mona, redirect_uri="http://127.0.0.1:5000/elsewhere")
    location = urlsplit(refused.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://127.0.0.1:5000/auth"
    query = parse_qs(location.query)
    assert (query["error"], query["state"]) == (["redirect_uri_mismatch"], ["s-1"])
    assert "code" not in query


def test_without_a_callback_url_only_loopback_redirects_are_accepted(mona):
    with mona.expect_auth_failures():
        page = authorize(mona, redirect_uri="https://evil.example/steal")
    assert page.status_code == 200 and "not associated with this application" in page.text


def test_only_the_s256_challenge_method_is_accepted(fake):
    fake.add_user("monalisa")
    fake.sign_in_as("monalisa")
    assert authorize(fake, code_challenge_method="plain").status_code == 400
    assert authorize(fake, code_challenge=None).status_code == 400
    assert len(fake.problems()) == 2


# Refusals at the token exchange


def test_a_wrong_verifier_is_a_bad_verification_code_and_burns_the_code(mona):
    code = code_of(authorize(mona))
    with mona.expect_auth_failures():
        assert exchange(mona, code, code_verifier="not-the-verifier")["error"] == "bad_verification_code"
        assert exchange(mona, code)["error"] == "bad_verification_code"
        assert exchange(mona, code_of(authorize(mona)), code_verifier=None)["error"] == "bad_verification_code"


def test_a_code_works_once(mona):
    code = code_of(authorize(mona))
    assert "access_token" in exchange(mona, code)
    with mona.expect_auth_failures():
        refused = exchange(mona, code)
    assert refused == {"error": "bad_verification_code",
                       "error_description": "The code passed is incorrect or expired.",
                       "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-"
                                    "app-access-token-request-errors/#bad-verification-code"}


def test_a_code_expires_after_ten_minutes(mona):
    code = code_of(authorize(mona))
    mona.clock_offset = 601  # only the fake's clock moved: not the bot's fault, no problem
    assert exchange(mona, code)["error"] == "bad_verification_code"


def test_wrong_client_credentials_or_redirect_uri_are_refused_and_are_problems(fake):
    fake.add_user("monalisa")
    fake.sign_in_as("monalisa")
    code = code_of(authorize(fake))
    assert exchange(fake, code, client_secret="0" * 40)["error"] == "incorrect_client_credentials"
    assert exchange(fake, code, redirect_uri="http://127.0.0.1:5000/other")["error"] == "redirect_uri_mismatch"
    assert exchange(fake, code, grant_type="password")["error"] == "unsupported_grant_type"
    assert "access_token" in exchange(fake, code)  # none of those spent the code
    assert fake.problems() == [f"web POST /login/oauth/access_token: {e}" for e in
                               ("incorrect_client_credentials", "redirect_uri_mismatch", "unsupported_grant_type")]


# Refresh tokens


def test_a_refresh_rotates_the_pair_and_the_old_pair_stops_working(fake):
    fake.add_installation(7, "acme", REPOS)
    fake.add_user("monalisa")
    fake.sign_in_as("monalisa")
    old = sign_in(fake)

    new = exchange(fake, grant_type="refresh_token", refresh_token=old["refresh_token"], redirect_uri=None,
                   code_verifier=None)

    assert new["access_token"] != old["access_token"] and new["refresh_token"] != old["refresh_token"]
    assert new["expires_in"] == 28800
    assert requests.get(f"{fake.url}/user", headers=as_user(new["access_token"]), timeout=5).ok
    stale = requests.get(f"{fake.url}/user", headers=as_user(old["access_token"]), timeout=5)
    assert (stale.status_code, stale.json()["message"]) == (401, "Bad credentials")
    again = exchange(fake, grant_type="refresh_token", refresh_token=old["refresh_token"], redirect_uri=None)
    assert again["error"] == "bad_refresh_token"
    assert fake.problems() == ["api GET /user: 401 Bad credentials",  # the bot should use the new pair
                               "web POST /login/oauth/access_token: bad_refresh_token"]


def test_a_refresh_token_expires(mona):
    mona.refresh_token_lifetime = 60
    tokens = sign_in(mona)
    assert tokens["refresh_token_expires_in"] == 60
    mona.clock_offset = 61  # only the fake's clock moved: not the bot's fault, no problem
    refused = exchange(mona, grant_type="refresh_token", refresh_token=tokens["refresh_token"], redirect_uri=None)
    assert refused["error"] == "bad_refresh_token"


def test_a_fault_on_the_web_host_answers_as_scripted(mona):
    mona.fail("POST", "/login/oauth/access_token", status=503)
    code = code_of(authorize(mona))
    response = requests.post(f"{mona.web_url}/login/oauth/access_token", data={"code": code}, timeout=5)
    assert response.status_code == 503
    assert "access_token" in exchange(mona, code)
