"""The fake GitHub behaves like GitHub: routes, checks, auth, paging, caching, faults, payloads."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import requests
from jwt import api_jws

from tests.fakegithub import APP_ID, payloads
from tests.fakegithub.openapi import spec
from tests.fakegithub.server import FakeGitHub

GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                  "User-Agent": "session-bot-tests"}
REPOS = ["acme/widgets", "acme/gadgets", "acme/gizmos"]


@pytest.fixture
def fake(app_key):
    """A fake without the teardown check, for tests that provoke problems on purpose."""
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=app_key.public_pem).start()
    fake.add_installation(7, "acme", REPOS)
    yield fake
    fake.stop()


@pytest.fixture
def github(fake_github):
    """The plugin's fake (fails the test on any problem), with the app installed on acme."""
    fake_github.add_installation(7, "acme", REPOS)
    return fake_github


def app_jwt(app_key, *, iat: float | None = None, lifetime: int = 540, iss=str(APP_ID)) -> str:
    iat = int(time.time()) - 60 if iat is None else int(iat)
    # Signed at the JWS level: PyJWT's jwt.encode refuses a non-string `iss`.
    claims = json.dumps({"iat": iat, "exp": iat + lifetime, "iss": iss}).encode()
    return api_jws.encode(claims, app_key.pem, algorithm="RS256")


def as_app(app_key, **claims) -> dict:
    return {**GITHUB_HEADERS, "Authorization": f"Bearer {app_jwt(app_key, **claims)}"}


def installation_token(fake, app_key, installation_id: int = 7, **body) -> str:
    response = requests.post(f"{fake.url}/app/installations/{installation_id}/access_tokens",
                             headers=as_app(app_key), json=body or None, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def as_installation(token: str) -> dict:
    return {**GITHUB_HEADERS, "Authorization": f"token {token}"}


# The spec


def test_every_registered_route_is_a_github_operation(github):
    assert github.routes
    for method, template in github.routes:
        assert spec().has_route(method, template), (method, template)


def test_the_fake_cannot_invent_an_endpoint(github):
    with pytest.raises(ValueError, match="not a GitHub REST operation"):
        github.route("GET", "/repos/{owner}/{repo}/sessions")


def test_concrete_paths_match_the_most_literal_template():
    assert spec().operation("GET", "/repos/o/r/actions/runs/5").template == \
        "/repos/{owner}/{repo}/actions/runs/{run_id}"
    assert spec().operation("GET", "/repos/o/r/issues/5/comments").template == \
        "/repos/{owner}/{repo}/issues/{issue_number}/comments"
    assert spec().operation("GET", "/repos/o/r/issues/comments").template == \
        "/repos/{owner}/{repo}/issues/comments"
    assert spec().operation("GET", "/repos/o/r/contents/docs/a.md").template == \
        "/repos/{owner}/{repo}/contents/{path}"
    assert spec().operation("GET", "/repos/o/r/sessions") is None


def test_parameters_are_checked_against_their_schemas():
    problems = spec().validate_request("GET", "/repos/o/r/issues",
                                       {"state": ["bogus"], "per_page": ["many"],
                                        "colour": ["red"]},
                                       GITHUB_HEADERS, None)
    assert problems == [
        "query parameter 'state': 'bogus' is not one of ['open', 'closed', 'all']",
        "query parameter 'per_page': 'many' is not of type 'integer'",
        "unknown query parameter 'colour' for GET /repos/{owner}/{repo}/issues",
    ]
    assert spec().validate_request("GET", "/repos/o/r/issues/5", {}, GITHUB_HEADERS, None) == []
    assert spec().validate_request("GET", "/repos/o/r/issues/five", {}, GITHUB_HEADERS, None) == [
        "path parameter 'issue_number': 'five' is not of type 'integer'"]


def test_nullable_fields_accept_null():
    # `milestone` is `nullable: true` (OpenAPI 3.0) in the update-an-issue body.
    assert spec().validate_request("PATCH", "/repos/o/r/issues/5", {}, GITHUB_HEADERS,
                                   b'{"milestone": null, "state": "closed"}') == []


# Request checks


def test_a_request_without_the_api_version_is_a_problem(fake, app_key):
    headers = as_app(app_key)
    del headers["X-GitHub-Api-Version"]
    assert requests.get(f"{fake.url}/app", headers=headers, timeout=5).status_code == 200
    assert fake.problems() == [
        "api GET /app: X-GitHub-Api-Version is None, not '2022-11-28'"]


def test_a_request_without_the_github_media_type_is_a_problem(fake, app_key):
    requests.get(f"{fake.url}/app", headers={**as_app(app_key), "Accept": "*/*"}, timeout=5)
    assert fake.problems() == ["api GET /app: Accept is '*/*', not application/vnd.github+json"]


def test_an_unknown_path_answers_404_and_is_a_problem(fake, app_key):
    response = requests.get(f"{fake.url}/repos/acme/widgets/sessions",
                            headers=as_installation(installation_token(fake, app_key)), timeout=5)
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert fake.problems() == [
        "api GET /repos/acme/widgets/sessions: "
        "no GitHub REST operation GET /repos/acme/widgets/sessions"]


def test_a_body_failing_the_schema_is_refused_and_is_a_problem(fake, app_key):
    response = requests.post(f"{fake.url}/app/installations/7/access_tokens",
                             headers=as_app(app_key), json={"repositories": "widgets"}, timeout=5)
    assert response.status_code == 422
    assert fake.problems() == ["api POST /app/installations/7/access_tokens: "
                               "request body $.repositories: 'widgets' is not of type 'array'"]


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


# Responses


def test_every_answer_carries_githubs_headers(github, app_key):
    response = requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=5)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                 "x-ratelimit-used", "x-ratelimit-resource", "x-github-request-id", "date"):
        assert name in response.headers
    assert response.headers["x-ratelimit-remaining"] == "4999"


def test_an_exhausted_rate_limit_is_refused(github, app_key):
    headers = as_installation(installation_token(github, app_key))
    github.rate_limit_remaining = 0
    response = requests.get(f"{github.url}/repos/acme/widgets", headers=headers, timeout=5)
    assert response.status_code == 403
    assert response.json()["message"] == "API rate limit exceeded for installation ID 7."
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_pagination_walks_every_page_through_link_headers(github, app_key):
    github.add_installation(9, "many", [f"many/repo-{i}" for i in range(7)])
    headers = as_installation(installation_token(github, app_key, installation_id=9))
    url, names, pages = f"{github.url}/installation/repositories?per_page=3", [], []
    while url:
        response = requests.get(url, headers=headers, timeout=5)
        assert response.json()["total_count"] == 7
        names += [r["full_name"] for r in response.json()["repositories"]]
        pages.append(response.links)
        url = response.links.get("next", {}).get("url")
    assert names == [f"many/repo-{i}" for i in range(7)]
    assert sorted(pages[0]) == ["last", "next"]
    assert sorted(pages[1]) == ["first", "last", "next", "prev"]
    assert sorted(pages[2]) == ["first", "prev"]
    assert pages[0]["last"]["url"] == f"{github.url}/installation/repositories?per_page=3&page=3"


def test_if_none_match_answers_304_without_spending_rate_limit(github, app_key):
    headers = as_installation(installation_token(github, app_key))
    first = requests.get(f"{github.url}/repos/acme/widgets", headers=headers, timeout=5)
    again = requests.get(f"{github.url}/repos/acme/widgets", timeout=5,
                         headers={**headers, "If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


# Faults


def test_a_fault_answers_its_status_the_given_times_then_recovers(github, app_key):
    github.fail("GET", "/app", status=502, times=2, headers={"retry-after": "1"})
    statuses = [requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=5).status_code
                for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert [c.status for c in github.calls("GET", "/app")] == [502, 502, 200]


def test_a_reset_fault_drops_the_connection(github, app_key):
    github.fail("GET", "/repos/*/widgets", mode="reset")
    headers = as_installation(installation_token(github, app_key))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{github.url}/repos/acme/widgets", headers=headers, timeout=5)
    assert requests.get(f"{github.url}/repos/acme/widgets", headers=headers, timeout=5).ok
    assert [c.status for c in github.calls("GET", "/repos/acme/widgets")] == [None, 200]


def test_a_timeout_fault_outlasts_the_clients_read_timeout(github, app_key):
    github.fail("GET", "/app", mode="timeout", delay=0.5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=0.2)
    assert requests.get(f"{github.url}/app", headers=as_app(app_key), timeout=5).ok


# Redirects to the blob host


def test_a_redirect_to_the_blob_host_drops_credentials(github, app_key):
    @github.route("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs")
    def job_logs(req, params):
        return github.redirect(b"2024-01-01T00:00:00Z hello\n", once=True,
                               content_type="text/plain")

    headers = as_installation(installation_token(github, app_key))
    response = requests.get(f"{github.url}/repos/acme/widgets/actions/jobs/5/logs",
                            headers=headers, timeout=5)
    assert (response.status_code, response.text) == (200, "2024-01-01T00:00:00Z hello\n")
    redirect, download = github.calls("GET", "*/logs")[0], github.calls(path="/blobs/*")[0]
    assert (redirect.status, download.host, download.auth_kind) == (302, "blob", None)
    assert requests.get(response.url, timeout=5).status_code == 404  # served once


def test_an_authorization_header_reaching_the_blob_host_is_a_problem(fake):
    url = fake.blob(b"log")
    assert url.startswith(fake.blob_url)
    assert requests.get(url, headers={"Authorization": "token ghs_x"}, timeout=5).content == b"log"
    assert len(fake.problems()) == 1
    assert "Authorization header reached the blob host" in fake.problems()[0]


# Webhook payloads


def test_examples_are_githubs_own_payloads():
    payload = payloads.example("issue_comment", "created")
    assert payload["action"] == "created"
    assert {"issue", "comment", "repository", "sender"} <= payload.keys()
    payload["comment"]["body"] = "changed"
    assert payloads.example("issue_comment", "created")["comment"]["body"] != "changed"
    with pytest.raises(KeyError, match="actions"):
        payloads.example("issue_comment", "exploded")


def test_deliveries_are_signed_as_github_signs_them():
    # The test vector from GitHub's "Validating webhook deliveries" documentation.
    assert payloads.sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    body = b'{"zen": "hi"}'
    headers = payloads.headers("ping", body, "s3cret", delivery="abc")
    assert headers["X-GitHub-Event"] == "ping"
    assert headers["X-GitHub-Delivery"] == "abc"
    assert headers["X-Hub-Signature-256"] == payloads.sign(body, "s3cret")
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(APP_ID)
    payload = payloads.with_installation(payloads.example("pull_request", "opened"), 7)
    assert payload["installation"]["id"] == 7


def test_deliver_posts_the_signed_payload_to_the_webhook_url():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.headers, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    payload = payloads.with_installation(payloads.example("issue_comment", "created"), 7)
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/github"
    try:
        response = payloads.deliver(url, "issue_comment", payload, "s3cret", delivery="d-1")
    finally:
        server.server_close()
    assert response.status_code == 202
    headers, body = received[0]
    assert json.loads(body) == payload
    assert headers["X-Hub-Signature-256"] == payloads.sign(body, "s3cret")
    assert (headers["X-GitHub-Event"], headers["X-GitHub-Delivery"]) == ("issue_comment", "d-1")
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
