"""The GitHub client against the fake GitHub: auth headers, pagination, retries, rate limits, downloads."""

import json
import logging
import socket
import threading
import time

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from bot.errors import RetryLater, TransientError
from bot.github.auth import AppAuth
from bot.github.client import GitHub, MemoryETagStore
from bot.github.errors import GitHubError, error_for
from tests.fakegithub.wire import error

REPO = "octo-org/hello"
INSTALLATION = 77
T_NOW = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def responses():
    """What the on_response metrics hook saw: (method, status, remaining)."""
    return []


@pytest.fixture
def clock():
    return FakeClock(time.time())


@pytest.fixture
def github(fake_github, app_key, responses, clock):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem, clock=clock), clock=clock,
                read_timeout=2.0, sleep=lambda s: None, on_response=lambda *a: responses.append(a))
    yield gh
    gh.close()


@pytest.fixture
def repo_client(github):
    return github.installation(INSTALLATION)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once the socket closes


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


# -- failures and retries ------------------------------------------------------------------------


def test_a_get_that_meets_502_twice_succeeds_on_the_third_try(repo_client, fake_github, responses):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=502, times=2)

    assert repo_client.get(f"/repos/{REPO}")["full_name"] == REPO

    assert [c.status for c in fake_github.calls("GET", f"/repos/{REPO}")] == [200, 502, 502, 200]
    assert [r[1] for r in responses[-3:]] == [502, 502, 200]


def test_a_get_that_keeps_failing_becomes_a_transient_error_naming_the_status(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=502, times=10)

    with pytest.raises(TransientError, match="GitHub answered 502") as info:
        repo_client.get(f"/repos/{REPO}")

    assert info.value.ambiguous is False
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 1 + 4  # first call, then 1 + 3 retries


def test_a_post_that_meets_502_is_not_repeated_and_is_flagged_ambiguous(repo_client, fake_github):
    @fake_github.route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    def create_comment(req, params):
        raise AssertionError("the fault answers first")

    fake_github.fail("POST", f"/repos/{REPO}/issues/1/comments", status=502, times=3)

    with pytest.raises(TransientError, match="GitHub answered 502") as info:
        repo_client.post(f"/repos/{REPO}/issues/1/comments", json={"body": "hello"})

    assert info.value.ambiguous is True
    assert len(fake_github.calls("POST", f"/repos/{REPO}/issues/1/comments")) == 1


def test_a_delete_is_idempotent_so_5xx_is_retried_in_call(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("DELETE", f"/repos/{REPO}/issues/comments/5", status=503, times=10)

    with pytest.raises(TransientError, match="GitHub answered 503") as info:
        repo_client.delete(f"/repos/{REPO}/issues/comments/5")

    assert info.value.ambiguous is False
    assert len(fake_github.calls("DELETE", f"/repos/{REPO}/issues/comments/5")) == 4


def test_a_reset_connection_on_get_is_retried(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", mode="reset")

    assert repo_client.get(f"/repos/{REPO}")["full_name"] == REPO
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 3


def test_a_reset_connection_on_post_is_ambiguous(repo_client, fake_github):
    @fake_github.route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel")
    def cancel(req, params):
        return 202, {}

    repo_client.get(f"/repos/{REPO}")  # token fetched: only the POST meets the fault
    fake_github.fail("POST", f"/repos/{REPO}/actions/runs/9/cancel", mode="reset")

    with pytest.raises(TransientError) as info:
        repo_client.post(f"/repos/{REPO}/actions/runs/9/cancel")

    assert info.value.ambiguous is True
    # GitHub may still be acting on it: nobody should look before GitHub's 10 s processing limit.
    assert info.value.not_before >= time.time() + 9
    assert len(fake_github.calls("POST", f"/repos/{REPO}/actions/runs/9/cancel")) == 1


def test_a_read_timeout_on_get_is_retried(fake_github, app_key):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), read_timeout=0.2,
                sleep=lambda s: None)
    fake_github.fail("GET", f"/repos/{REPO}", mode="timeout", delay=0.5)

    assert gh.installation(INSTALLATION).get(f"/repos/{REPO}")["full_name"] == REPO
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 2
    gh.close()


def test_a_post_that_could_not_connect_is_retried_because_nothing_was_sent(app_key):
    sleeps = []
    gh = GitHub(closed_port_url(), AppAuth(1234, app_key.pem), retries=2, retry_base=1.0,
                sleep=sleeps.append)

    with pytest.raises(TransientError, match="ConnectionError") as info:
        gh.app().post("/app/installations/1/access_tokens")

    assert info.value.ambiguous is False
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0  # exponential backoff with full jitter


# -- rate limits ---------------------------------------------------------------------------------


def test_primary_rate_limit_defers_until_the_reset(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.rate_limit_remaining = 0

    with pytest.raises(RetryLater) as info:
        repo_client.get(f"/repos/{REPO}")

    assert info.value.at == fake_github.rate_limit_reset + 1
    assert len(fake_github.calls("GET", f"/repos/{REPO}")) == 2  # no in-call retry, no sleep


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_with_retry_after_defers_that_long(repo_client, fake_github, clock, status):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=status, headers={"Retry-After": "30"},
                     body={"message": "You have exceeded a secondary rate limit."})

    with pytest.raises(RetryLater) as info:
        repo_client.get(f"/repos/{REPO}")

    assert info.value.at == clock.now + 30


def test_secondary_rate_limit_without_headers_defers_a_minute(repo_client, fake_github, clock):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=403,
                     body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."})

    with pytest.raises(RetryLater) as info:
        repo_client.get(f"/repos/{REPO}")

    assert info.value.at == clock.now + 60


@pytest.mark.parametrize("status, headers, body, wait", [
    (429, {}, {"message": "Too Many Requests"}, 60),  # a 429 is always a rate limit
    (403, {"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"}, {}, 4070908800 - T_NOW),  # HTTP-date form
    (403, {"Retry-After": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T_NOW) + 90)},
     {}, 91),  # both hints: the later one wins
])
def test_rate_limit_hints(status, headers, body, wait):
    resp = requests.Response()
    resp.status_code, resp.headers, resp._content = status, CaseInsensitiveDict(headers), json.dumps(body).encode()

    error = error_for(resp, "GET /x", T_NOW)

    assert isinstance(error, RetryLater) and error.at == pytest.approx(T_NOW + wait)


def test_a_plain_403_is_a_github_error(repo_client, fake_github):
    repo_client.get(f"/repos/{REPO}")
    fake_github.fail("GET", f"/repos/{REPO}", status=403,
                     body={"message": "Resource not accessible by integration"})

    with pytest.raises(GitHubError) as info:
        repo_client.get(f"/repos/{REPO}")
    assert info.value.status == 403 and info.value.message == "Resource not accessible by integration"


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


def test_writes_of_one_installation_are_paced_after_a_short_burst(app_key, fake_github):
    """GitHub asks integrators to space content-creating requests: one command's reaction, action
    and reply go at once, a fourth write waits its turn, another installation and reads never do."""
    fake_github.add_installation(9, "octo", ["octo/pace"])
    fake_github.add_installation(10, "other", ["other/pace"])
    fake_github.add_comment("octo/pace", 1, "hello")
    fake_github.add_comment("other/pace", 1, "hello")
    sleeps, now = [], [1_000_000.0]

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    gh = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), sleep=sleep, clock=lambda: now[0],
                write_interval=0.5, write_burst=3)
    client = gh.installation(9)
    for n in range(3):
        client.post("/repos/octo/pace/issues/1/comments", json={"body": f"burst {n}"})
        client.get("/repos/octo/pace")
    assert sleeps == []
    client.post("/repos/octo/pace/issues/1/comments", json={"body": "paced"})
    gh.installation(10).post("/repos/other/pace/issues/1/comments", json={"body": "not held back"})
    client.post("/repos/octo/pace/issues/1/comments", json={"body": "paced after the last"})
    assert sleeps == [0.5, 0.5]  # the fourth waits one interval, the fifth one more
    gh.close()
