"""The GitHub client's credentials: the App's JWT, installation tokens, GitHub's headers; none leaks."""

import logging
import threading

import pytest

from bot.errors import TransientError
from bot.github.auth import AppAuth
from bot.github.client import GitHub
from bot.github.errors import GitHubError
from tests.github_client import INSTALLATION, REPO


# -- authentication and headers ------------------------------------------------------------------


def test_every_request_carries_githubs_headers_and_the_right_credential(github, repo_client, fake_github):
    assert github.app().get("/app")["id"] == fake_github.app_id
    assert repo_client.get(f"/repos/{REPO}")["full_name"] == REPO

    app_call, token_call, repo_call = fake_github.requests
    for call in fake_github.requests:
        assert call.headers["Accept"] == "application/vnd.github+json"
        assert call.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert call.headers["User-Agent"] == "session-bot"
        assert call.headers["Authorization"].startswith("Bearer ")
    assert (app_call.auth_kind, token_call.auth_kind, repo_call.auth_kind) == ("jwt", "jwt", "token")
    assert token_call.path == f"/app/installations/{INSTALLATION}/access_tokens"
    assert repo_call.installation_id == INSTALLATION


def test_installation_token_is_fetched_once_and_reused(repo_client, fake_github):
    for _ in range(3):
        repo_client.get(f"/repos/{REPO}")

    assert len(fake_github.calls("POST", "/app/installations/*/access_tokens")) == 1
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 3


def test_installation_token_is_refreshed_five_minutes_before_it_expires(repo_client, fake_github, clock):
    repo_client.get(f"/repos/{REPO}")
    tokens = lambda: len(fake_github.calls("POST", "/app/installations/*/access_tokens"))  # noqa: E731

    clock.now += 3600 - 320  # both clocks move: the bot's and GitHub's
    fake_github.clock_offset = 3600 - 320
    repo_client.get(f"/repos/{REPO}")
    assert tokens() == 1

    clock.now += 40
    fake_github.clock_offset += 40
    repo_client.get(f"/repos/{REPO}")
    assert tokens() == 2


def test_threads_asking_at_once_share_one_token_fetch(repo_client, fake_github):
    # Slow token minting, so every thread arrives while the first fetch is in flight.
    fake_github.fail("POST", "/app/installations/*/access_tokens", mode="timeout", delay=0.2)
    barrier = threading.Barrier(8)
    names = []

    def worker():
        barrier.wait()
        names.append(repo_client.get(f"/repos/{REPO}")["full_name"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert names == [REPO] * 8
    assert len(fake_github.calls("POST", "/app/installations/*/access_tokens")) == 1


def test_a_refused_installation_token_is_replaced_once(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=401, body={"message": "Bad credentials"})

    assert repo_client.get(f"/repos/{REPO}")["full_name"] == REPO
    assert len(fake_github.calls("POST", "/app/installations/*/access_tokens")) == 2


def test_a_token_refused_twice_is_a_permanent_error(repo_client, fake_github):
    fake_github.fail("GET", f"/repos/{REPO}", status=401, times=5, body={"message": "Bad credentials"})

    with pytest.raises(GitHubError) as info:
        repo_client.get(f"/repos/{REPO}")

    assert info.value.status == 401
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 2  # one retry with a fresh token, no more


def test_a_jwt_refused_because_githubs_clock_is_behind_is_reissued_on_githubs_time(github, fake_github):
    fake_github.clock_offset = -300  # our `iat` is in GitHub's future

    with fake_github.expect_auth_failures():
        assert github.app().get("/app")["id"] == fake_github.app_id

    first, second = fake_github.calls("GET", "/app")
    assert (first.status, second.status) == (401, 200)
    assert abs(github.auth.now() - fake_github.now()) < 2


def test_a_jwt_refused_because_githubs_clock_is_ahead_is_reissued_on_githubs_time(repo_client, fake_github):
    fake_github.clock_offset = 900  # our `exp` is in GitHub's past

    with fake_github.expect_auth_failures():
        assert repo_client.get(f"/repos/{REPO}")["full_name"] == REPO

    assert [c.status for c in fake_github.calls("POST", "/app/installations/*/access_tokens")] == [401, 201]


def test_a_failing_metrics_hook_does_not_break_calls(fake_github, app_key):
    def broken(*args):
        raise RuntimeError("metrics down")

    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), on_response=broken)
    assert gh.app().get("/app")["id"] == fake_github.app_id
    gh.close()


def test_absolute_urls_must_stay_on_the_api_host(repo_client, fake_github):
    with pytest.raises(ValueError, match="refusing"):
        repo_client.get(f"{fake_github.blob_url}/repos/{REPO}")
    assert fake_github.requests == []


# -- secrets -------------------------------------------------------------------------------------


def test_credentials_never_reach_logs_or_error_messages(repo_client, fake_github, caplog):
    caplog.set_level(logging.DEBUG)
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=502, times=10)
    with pytest.raises(TransientError) as info:
        repo_client.get(f"/repos/{REPO}")

    credentials = {c.headers["Authorization"].split(" ", 1)[1] for c in fake_github.requests}
    for secret in credentials:
        assert secret not in caplog.text
        assert secret not in str(info.value)
