"""User access tokens on the fake's API: the `/user…` routes, what a token reaches (what the person
and the App share), and GitHub's refusals of the wrong kind of token, of expired and revoked ones."""

from __future__ import annotations

import time

import requests

from bot.github.permissions import NOT_ACCESSIBLE
from tests import app_manifest
from tests.fakegithub.credentials import GITHUB_HEADERS, REPOS, as_app, as_installation, as_user, installation_token
from tests.fakegithub.users import INSTALLATION_ONLY

USER_DOCS = "https://docs.github.com/rest/users/users#get-the-authenticated-user"


def token(fake, login: str = "monalisa") -> str:
    """A user access token, as the web flow (test_signin.py) would have given it."""
    return fake.users.mint(login)[0].value


def get(fake, path: str, headers: dict) -> requests.Response:
    return requests.get(f"{fake.url}{path}", headers=headers, timeout=5)


# What a user token reaches


def test_the_installations_are_those_holding_a_repository_the_person_reaches(mona):
    mona.add_installation(8, "other", ["other/secret"])
    mona.add_installation(9, "mona-org", ["mona-org/site"])
    mona.grant("monalisa", "mona-org/site")
    answer = get(mona, "/user/installations", as_user(token(mona))).json()
    assert [i["id"] for i in answer["installations"]] == [7, 9]
    assert answer["installations"][0] == mona.installations[7]


def test_an_installation_the_person_cannot_reach_is_not_found(mona):
    mona.add_installation(8, "other", ["other/secret"])
    headers = as_user(token(mona))
    assert get(mona, "/user/installations/8/repositories", headers).status_code == 404
    assert get(mona, "/user/installations/99/repositories", headers).status_code == 404


def test_lists_are_paginated_with_link_headers(mona):
    names = [f"many/repo-{i}" for i in range(7)]
    mona.add_installation(9, "many", names)
    mona.grant("monalisa", *names)
    headers = as_user(token(mona))
    first = get(mona, "/user/installations/9/repositories?per_page=3", headers)
    assert [r["full_name"] for r in first.json()["repositories"]] == names[:3]
    assert first.json()["total_count"] == 7
    assert first.links["last"]["url"] == f"{mona.url}/user/installations/9/repositories?per_page=3&page=3"
    last = requests.get(first.links["last"]["url"], headers=headers, timeout=5).json()
    assert [r["full_name"] for r in last["repositories"]] == names[6:]
    installations = get(mona, "/user/installations?per_page=1&page=2", headers)
    assert [i["id"] for i in installations.json()["installations"]] == [9]
    assert sorted(installations.links) == ["first", "prev"]  # the last page


def test_on_repository_routes_a_user_token_reaches_only_what_the_person_and_the_app_share(mona):
    mona.grant("monalisa", "elsewhere/private")  # the person's, not the App's
    headers = as_user(token(mona))
    assert get(mona, "/repos/acme/widgets", headers).json()["full_name"] == "acme/widgets"
    assert get(mona, "/repos/acme/gizmos", headers).status_code == 404  # the App's, not the person's
    assert get(mona, "/repos/elsewhere/private", headers).status_code == 404
    call = mona.calls("GET", "/repos/acme/widgets")[0]
    assert (call.auth_kind, call.installation_id) == ("user", 7)


def test_a_user_token_holds_no_more_than_the_installations_permissions(github, app_key):
    github.add_installation(7, "acme", REPOS, permissions={**app_manifest.default_permissions(), "actions": "read"})
    github.add_user("monalisa")
    github.grant("monalisa", "acme/widgets")
    github.add_run("acme/widgets", 5151, status="in_progress", conclusion=None)
    headers = as_user(token(github))
    assert get(github, "/repos/acme/widgets/actions/runs/5151", headers).ok
    cancel = requests.post(f"{github.url}/repos/acme/widgets/actions/runs/5151/cancel", headers=headers, timeout=5)
    assert (cancel.status_code, cancel.json()["message"]) == (403, NOT_ACCESSIBLE)


# The wrong kind of token


def test_an_installation_token_or_the_apps_jwt_is_refused_on_the_user_routes(fake, app_key):
    installation = as_installation(installation_token(fake, app_key))
    for path in ("/user", "/user/installations", "/user/installations/7/repositories"):
        refused = get(fake, path, installation)
        assert (refused.status_code, refused.json()["message"]) == (403, NOT_ACCESSIBLE), path
    assert get(fake, "/user", installation).json() == {"message": NOT_ACCESSIBLE, "documentation_url": USER_DOCS,
                                                       "status": "403"}
    assert get(fake, "/user", as_app(app_key)).status_code == 403
    assert len(fake.problems()) == 5  # the bot sent a kind of token GitHub refuses there


def test_a_user_token_is_refused_on_app_and_installation_routes(fake):
    fake.add_user("monalisa")
    headers = as_user(token(fake))
    app = get(fake, "/app", headers)
    assert (app.status_code, app.json()["message"]) == (401, "A JSON web token could not be decoded")
    listing = get(fake, "/installation/repositories", headers)
    assert (listing.status_code, listing.json()["message"]) == (403, INSTALLATION_ONLY)
    assert fake.problems() == ["api GET /app: 401 A JSON web token could not be decoded",
                               f"api GET /installation/repositories: 403 {INSTALLATION_ONLY}"]


def test_without_credentials_the_user_routes_require_authentication(fake):
    response = requests.get(f"{fake.url}/user", headers=GITHUB_HEADERS, timeout=5)
    assert (response.status_code, response.json()["message"]) == (401, "Requires authentication")


# Expired and revoked tokens


def test_a_token_expired_on_the_fakes_clock_gets_bad_credentials_without_blaming_the_bot(mona):
    headers = as_user(token(mona))
    mona.clock_offset = 28801
    response = get(mona, "/user", headers)
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")


def test_a_token_used_after_the_lifetime_it_was_given_is_the_bots_fault(fake):
    fake.add_user("monalisa")
    fake.user_token_lifetime = 1
    headers = as_user(token(fake))
    time.sleep(1.1)
    assert get(fake, "/user", headers).status_code == 401
    assert fake.problems() == ["api GET /user: 401 Bad credentials"]


def test_a_revoked_person_loses_every_token_and_code(mona):
    headers = as_user(token(mona))
    mona.sign_in_as("monalisa")
    requests.get(f"{mona.web_url}/login/oauth/authorize", allow_redirects=False, timeout=5,
                 params={"client_id": mona.client_id, "redirect_uri": "http://127.0.0.1:5000/auth/callback"})
    assert mona.signin.codes  # a code not yet exchanged

    mona.revoke_user("monalisa")

    response = get(mona, "/user/installations", headers)
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")
    assert not mona.signin.codes
    refresh = [t.value for t in mona.users.refresh.values()][0]
    answer = requests.post(f"{mona.web_url}/login/oauth/access_token", headers={"Accept": "application/json"},
                           data={"client_id": mona.client_id, "client_secret": mona.client_secret,
                                 "grant_type": "refresh_token", "refresh_token": refresh}, timeout=5)
    assert answer.json()["error"] == "bad_refresh_token"
    assert get(mona, "/user", as_user(token(mona))).ok  # signing in again works
