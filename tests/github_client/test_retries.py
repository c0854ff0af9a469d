"""The GitHub client when GitHub fails: retries, ambiguous writes, rate limits, pacing of writes."""

import json
import time

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from bot.errors import RetryLater, TransientError
from bot.github.auth import AppAuth
from bot.github.client import GitHub
from bot.github.errors import GitHubError, error_for
from tests.github_client import INSTALLATION, REPO, T_NOW, closed_port_url


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
                write_interval=0.5)
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
