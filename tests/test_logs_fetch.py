"""Fetching a session's agent log from the fake GitHub: run archives and job logs by redirect, 404 while running."""

import pytest

from bot.errors import PermanentError
from bot.github.auth import AppAuth
from bot.github.client import GitHub
from bot.github.errors import GitHubError
from bot.logs.fetch import LogNotReady, agent_members, open_run_log, summarise_job, summarise_run
from tests.agentlogs import AgentLog, run_logs_zip, session

REPO = "octo-org/hello"
INSTALLATION = 77


@pytest.fixture
def client(fake_github, app_key):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    github = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), read_timeout=5.0,
                    retries=1, sleep=lambda s: None)
    yield github.installation(INSTALLATION)
    github.close()


@pytest.fixture
def agent_log() -> bytes:
    log = AgentLog()
    session(log, turns=3)
    return log.sink.getvalue()


def test_a_run_archive_is_followed_to_the_blob_host_and_its_agent_step_summarised(client, fake_github, agent_log):
    fake_github.set_run_log(REPO, 9, run_logs_zip(agent_log))

    summary = summarise_run(client, REPO, 9)

    assert summary.final_message.startswith("I fixed the parser")
    assert summary.tests.total == 6
    assert summary.stats.lines == agent_log.count(b"\n")  # the step alone, not the job's whole log too
    blob = [r for r in fake_github.requests if r.host == "blob"]
    assert len(blob) == 1 and "authorization" not in blob[0].headers


def test_a_job_log_is_followed_to_the_blob_host(client, fake_github, agent_log):
    fake_github.set_job_log(REPO, 11, agent_log)
    summary = summarise_job(client, REPO, 11)
    assert summary.finished and summary.pr_title == "Fix the parser"


def test_a_running_sessions_archive_is_not_ready(client, fake_github):
    with pytest.raises(LogNotReady) as info:
        summarise_run(client, REPO, 9)
    assert isinstance(info.value, PermanentError)  # nothing to retry: the session's end brings the log


def test_a_running_jobs_missing_blob_is_not_ready(client, fake_github):
    fake_github.set_job_log(REPO, 11, None)
    with pytest.raises(LogNotReady):
        summarise_job(client, REPO, 11)


def test_expired_logs_are_a_github_error_not_a_wait(client, fake_github):
    fake_github.fail("GET", f"/repos/{REPO}/actions/runs/9/logs", status=410)
    with pytest.raises(GitHubError) as info:
        summarise_run(client, REPO, 9)
    assert info.value.status == 410 and not isinstance(info.value, LogNotReady)


def test_an_archive_without_an_agent_step_falls_back_to_the_jobs_whole_log(client, fake_github, agent_log):
    fake_github.set_run_log(REPO, 9, run_logs_zip(agent_log, agent_member=None))
    with open_run_log(client, REPO, 9) as stream:
        first = stream.readline()
    assert b"Current runner version" in first
    assert summarise_run(client, REPO, 9).final_message.startswith("I fixed the parser")


@pytest.mark.parametrize("names, picked", [
    (["0_copilot.txt", "copilot/1_Set up job.txt", "copilot/3_Processing Request.txt"],
     ["copilot/3_Processing Request.txt"]),
    (["copilot/5_Processing Request.txt", "copilot/3_Processing Request.txt"],
     ["copilot/3_Processing Request.txt", "copilot/5_Processing Request.txt"]),
    (["1_copilot.txt", "copilot/1_Set up job.txt"], ["1_copilot.txt"]),
    (["copilot/1_Set up job.txt"], ["copilot/1_Set up job.txt"]),
    ([], []),
])
def test_which_archive_members_hold_the_agent(names, picked):
    assert agent_members(names) == picked
