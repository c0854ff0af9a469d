"""The fake GitHub serves only GitHub's operations and checks every request against GitHub's description."""

from __future__ import annotations


import pytest
import requests

from tests.fakegithub.credentials import GITHUB_HEADERS, as_app, as_installation, installation_token
from tests.fakegithub.openapi import spec


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
