"""The GitHub client reading: pagination, conditional requests, errors, log downloads."""


import pytest

from bot.github.errors import GitHubError
from tests.fakegithub.wire import error
from tests.github_client import REPO, MemoryETagStore


# -- reading -------------------------------------------------------------------------------------


def test_paginate_follows_link_headers_across_pages(fake_github, github):
    repos = [f"octo-org/r{i:03}" for i in range(230)]
    fake_github.add_installation(5, "octo-org", repos)

    names = [r["full_name"] for r in github.installation(5).paginate(
        "/installation/repositories", item_key="repositories")]

    assert names == repos
    pages = fake_github.calls("GET", "/installation/repositories")
    assert len(pages) == 3
    assert all(p.query["per_page"] == ["100"] for p in pages)


def test_paginate_keeps_callers_params(fake_github, github):
    fake_github.add_installation(5, "octo-org", [f"octo-org/r{i}" for i in range(5)])

    items = list(github.installation(5).paginate("/installation/repositories", params={"per_page": 2},
                                                 item_key="repositories"))

    assert len(items) == 5
    assert len(fake_github.calls("GET", "/installation/repositories")) == 3


def test_conditional_get_answers_from_the_store_on_304_without_spending_rate_limit(repo_client, fake_github,
                                                                                   responses):
    store = MemoryETagStore()
    body, changed = repo_client.get_conditional(f"/repos/{REPO}", store=store)
    assert changed and body["full_name"] == REPO
    remaining = fake_github.rate_limit_remaining

    again, changed = repo_client.get_conditional(f"/repos/{REPO}", store=store)

    assert (again, changed) == (body, False)
    second = fake_github.calls("GET", f"/repos/{REPO}")[-1]
    assert second.status == 304 and second.headers["If-None-Match"].startswith('W/"')
    assert fake_github.rate_limit_remaining == remaining
    assert responses[-1][:2] == ("GET", 304)


def test_not_found_is_a_github_error_with_githubs_message(repo_client):
    with pytest.raises(GitHubError) as info:
        repo_client.get("/repos/octo-org/missing")

    assert info.value.status == 404
    assert info.value.message == "Not Found"
    assert info.value.documentation_url.startswith("https://docs.github.com")


# -- downloads -----------------------------------------------------------------------------------


@pytest.fixture
def logs_route(fake_github):
    archive = bytes(range(256)) * 8192  # 2 MiB: more than the spool keeps in memory

    @fake_github.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/logs")
    def run_logs(req, params):
        return fake_github.redirect(archive, once=True)  # each signed URL works once, like a short expiry

    return archive


def test_download_follows_the_redirect_without_credentials(repo_client, fake_github, logs_route):
    for _ in range(2):  # a fresh redirect every time
        with repo_client.download(f"/repos/{REPO}/actions/runs/9/logs") as archive:
            assert archive.read() == logs_route

    blob_calls = [c for c in fake_github.requests if c.host == "blob"]
    assert len(blob_calls) == 2
    assert all("Authorization" not in c.headers for c in blob_calls)
    assert len(fake_github.calls("GET", f"/repos/{REPO}/actions/runs/9/logs")) == 2


def test_download_retries_with_a_fresh_redirect_when_the_blob_host_fails(repo_client, fake_github, logs_route):
    fake_github.fail("GET", "/blobs/*", status=503)

    with repo_client.download(f"/repos/{REPO}/actions/runs/9/logs") as archive:
        assert archive.read() == logs_route
    assert len(fake_github.calls("GET", f"/repos/{REPO}/actions/runs/9/logs")) == 2


def test_download_of_expired_logs_is_a_github_error(repo_client, fake_github):
    @fake_github.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/logs")
    def run_logs(req, params):
        return error(410, "Gone")

    with pytest.raises(GitHubError) as info:
        repo_client.download(f"/repos/{REPO}/actions/runs/9/logs")
    assert info.value.status == 410
    assert [c.host for c in fake_github.requests].count("blob") == 0
