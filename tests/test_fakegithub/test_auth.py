"""The fake GitHub authenticates as GitHub does: the App's JWT, installation tokens and what they reach."""

from __future__ import annotations

import time

import jwt
import requests

from tests.fakegithub import APP_ID
from tests.fakegithub.credentials import GITHUB_HEADERS, as_app, as_installation, installation_token


# App authentication (JWT)


def test_the_app_authenticates_with_a_jwt(github, app_key):
    response = requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=5)
    assert response.status_code == 200
    assert response.json()["id"] == APP_ID
    assert github.calls("GET", "/app")[0].auth_kind == "jwt"


def test_the_jwt_issuer_may_be_a_string_or_an_integer(github, app_key):
    for iss in (APP_ID, str(APP_ID)):
        response = requests.get(f"{github.url}/app", headers=as_app(app_key, iss=iss), timeout=5)
        assert response.status_code == 200


def test_a_jwt_living_longer_than_ten_minutes_is_refused(fake, app_key):
    response = requests.get(f"{fake.url}/app", timeout=5,
                            headers=as_app(app_key, iat=time.time() - 30, lifetime=601))
    assert (response.status_code, response.json()["message"]) == (
        401, "'Expiration time' claim ('exp') is too far in the future")
    assert fake.problems() == [
        "api GET /app: 401 'Expiration time' claim ('exp') is too far in the future"]


def test_a_jwt_issued_in_the_future_is_refused(fake, app_key):
    response = requests.get(f"{fake.url}/app", timeout=5,
                            headers=as_app(app_key, iat=time.time() + 120, lifetime=300))
    assert response.status_code == 401
    assert response.json()["message"].startswith("'Issued at' claim ('iat') must be an Integer")
    assert len(fake.problems()) == 1


def test_a_jwt_not_signed_with_the_apps_key_cannot_be_decoded(fake):
    other = jwt.encode({"iat": int(time.time()) - 60, "exp": int(time.time()) + 500,
                        "iss": str(APP_ID)},
                       "a shared secret is not the app's RSA key", algorithm="HS256")
    response = requests.get(f"{fake.url}/app", timeout=5,
                            headers={**GITHUB_HEADERS, "Authorization": f"Bearer {other}"})
    assert (response.status_code, response.json()["message"]) == (
        401, "A JSON web token could not be decoded")


def test_a_refusal_caused_only_by_the_fakes_skewed_clock_is_not_a_problem(github, app_key):
    github.clock_offset = -300  # GitHub's clock is 5 minutes behind ours
    response = requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=5)
    assert response.status_code == 401
    # The Date header tells the client how far off it is, so it can recover.
    server_time = time.mktime(time.strptime(response.headers["date"], "%a, %d %b %Y %H:%M:%S GMT"))
    assert abs(server_time - time.mktime(time.gmtime()) + 300) < 5
    skewed = as_app(app_key, iat=time.time() - 300 - 60)
    assert requests.get(f"{github.url}/app", headers=skewed, timeout=5).status_code == 200


def test_expected_auth_failures_are_not_problems(github, app_key):
    with github.expect_auth_failures():
        response = requests.get(f"{github.url}/app", timeout=5,
                                headers=as_app(app_key, lifetime=3600))
    assert response.status_code == 401


# Installation tokens


def test_an_access_token_looks_like_githubs(github, app_key):
    response = requests.post(f"{github.url}/app/installations/7/access_tokens",
                             headers=as_app(app_key), timeout=5)
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("ghs_") and len(body["token"]) == 40
    expires = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(expires - time.mktime(time.gmtime()) - 3600) < 5
    assert body["permissions"] == github.installations[7]["permissions"]
    assert body["repository_selection"] == "selected"


def test_tokens_for_unknown_or_suspended_installations_are_refused(github, app_key):
    github.add_installation(8, "frozen", ["frozen/app"], suspended=True)
    url = f"{github.url}/app/installations/{{}}/access_tokens"
    assert requests.post(url.format(99), headers=as_app(app_key), timeout=5).status_code == 404
    assert requests.post(url.format(8), headers=as_app(app_key), timeout=5).status_code == 403


def test_a_token_reaches_only_its_installations_repositories(github, app_key):
    github.add_installation(8, "other", ["other/secret"])
    headers = as_installation(installation_token(github, app_key))
    assert requests.get(f"{github.url}/repos/acme/widgets", headers=headers,
                        timeout=5).json()["full_name"] == "acme/widgets"
    assert requests.get(f"{github.url}/repos/other/secret", headers=headers,
                        timeout=5).status_code == 404
    assert github.calls("GET", "/repos/*")[0].installation_id == 7


def test_a_narrowed_token_reaches_only_the_repositories_it_names(github, app_key):
    headers = as_installation(installation_token(github, app_key, repositories=["gadgets"]))
    assert requests.get(f"{github.url}/repos/acme/gadgets", headers=headers, timeout=5).ok
    assert requests.get(f"{github.url}/repos/acme/widgets", headers=headers,
                        timeout=5).status_code == 404


def test_an_expired_token_gets_bad_credentials(github, app_key):
    headers = as_installation(installation_token(github, app_key))
    github.clock_offset = 3601  # an hour later, on GitHub's clock
    response = requests.get(f"{github.url}/repos/acme/widgets", headers=headers, timeout=5)
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")


def test_a_token_the_fake_never_issued_is_a_problem(fake):
    response = requests.get(f"{fake.url}/repos/acme/widgets", timeout=5,
                            headers=as_installation("ghs_" + "x" * 36))
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")
    assert fake.problems() == ["api GET /repos/acme/widgets: 401 Bad credentials"]
