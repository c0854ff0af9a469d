"""The fake GitHub answers as GitHub does: headers, rate limit, pages, caching; its faults and blob-host redirects."""

from __future__ import annotations


import pytest
import requests

from tests.fakegithub.credentials import as_app, as_installation, installation_token


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
