"""Fetching a session's agent log from the fake GitHub and summarising it in a child process on a budget."""

import os
import time

import pytest

from bot.errors import PermanentError, TransientError
from bot.github.auth import AppAuth
from bot.github.client import GitHub
from bot.github.errors import GitHubError
from bot.log_summaries import LogNotReady, SummaryFailed, SummaryTimeout, summarise_run
from tests.agentlogs import AgentLog, run_logs_zip, session

REPO = "octo-org/hello"
INSTALLATION = 77
BUDGET = 30.0


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


@pytest.fixture
def faults(tmp_path, monkeypatch):
    """Arms a fault point of the summariser's child, which reads BOT_FAULTS_DIR when it starts."""
    directory = tmp_path / "faults"
    directory.mkdir()
    monkeypatch.setenv("BOT_FAULTS_DIR", str(directory))
    return lambda point, action: (directory / f"{point}.1").write_text(action)


def test_a_run_archive_is_followed_to_the_blob_host_and_its_agent_step_summarised(client, fake_github, agent_log):
    fake_github.set_run_log(REPO, 9, run_logs_zip(agent_log))

    summary = summarise_run(client, REPO, 9, budget=BUDGET)

    assert summary.final_message.startswith("I fixed the parser")
    assert summary.tests.total == 6
    assert summary.stats.lines == agent_log.count(b"\n")  # the step alone, not the job's whole log too
    blob = [r for r in fake_github.requests if r.host == "blob"]
    assert len(blob) == 1 and "authorization" not in blob[0].headers


def test_a_large_archive_spooled_to_disk_is_summarised_too(client, fake_github):
    log = AgentLog()
    session(log, turns=400)
    archive = run_logs_zip(log.sink.getvalue())
    assert len(archive) > 1 << 20, "past the download's in-memory spool"
    fake_github.set_run_log(REPO, 9, archive)

    assert summarise_run(client, REPO, 9, budget=BUDGET).stats.lines == log.sink.getvalue().count(b"\n")


def test_a_running_sessions_archive_is_not_ready(client, fake_github):
    with pytest.raises(LogNotReady) as info:
        summarise_run(client, REPO, 9, budget=BUDGET)
    assert isinstance(info.value, PermanentError)  # nothing to retry: the session's end brings the log


def test_expired_logs_are_a_github_error_not_a_wait(client, fake_github):
    fake_github.fail("GET", f"/repos/{REPO}/actions/runs/9/logs", status=410)
    with pytest.raises(GitHubError) as info:
        summarise_run(client, REPO, 9, budget=BUDGET)
    assert info.value.status == 410 and not isinstance(info.value, LogNotReady)


def test_an_archive_that_is_not_a_zip_is_fetched_again(client, fake_github):
    fake_github.set_run_log(REPO, 9, b"<html>a proxy's error page</html>")
    with pytest.raises(TransientError, match="not a zip"):
        summarise_run(client, REPO, 9, budget=BUDGET)


def test_a_summariser_past_its_budget_is_killed_and_its_timeout_is_permanent(client, fake_github, agent_log,
                                                                               faults):
    fake_github.set_run_log(REPO, 9, run_logs_zip(agent_log))
    faults("logs.summarise", "hang")

    started = time.monotonic()
    with pytest.raises(SummaryTimeout) as info:
        summarise_run(client, REPO, 9, budget=0.5)

    assert time.monotonic() - started < 0.5 + 1.5
    assert isinstance(info.value, PermanentError), "never retried: it would take as long again"
    pid = info.value.__cause__.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_summariser_that_dies_is_a_permanent_failure(client, fake_github, agent_log, faults):
    fake_github.set_run_log(REPO, 9, run_logs_zip(agent_log))
    faults("logs.summarise", "crash")

    with pytest.raises(SummaryFailed, match="status 137") as info:
        summarise_run(client, REPO, 9, budget=BUDGET)
    assert isinstance(info.value, PermanentError)
