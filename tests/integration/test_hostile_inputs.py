"""The reproductions of "no input can stall a worker", through gunicorn against the fake GitHub.

Before the fix each of these froze the gunicorn worker that met the input (Python's `re` holds the
GIL, so its heartbeat and job threads stopped too) or sent its job round the retry loop.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from bot import db
from bot.logging_config import GUNICORN_CHARS
from tests import agentlogs, sessions_payloads as hooks
from tests.copilot_pr import INSTALLATION, PR, REPO, comment, open_session, replies, settle

pytestmark = pytest.mark.slow


def _send_raw(url: str, data: bytes) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(data)
        try:
            conn.recv(1024)  # gunicorn answers 400 and closes
        except socket.timeout:
            pass


def test_a_request_line_of_secret_labels_leaves_the_workers_answering(bot, fake_github):
    """Before: two such request lines froze both sync workers for 47 s each (gunicorn logs the line,
    and the log redaction was cubic on it)."""
    web = bot.start_web()

    for _ in range(2):
        _send_raw(web.url, b"password" * 500 + b"\r\n\r\n")
    answers = [requests.get(web.url + "/healthz", timeout=5).status_code for _ in range(4)]

    assert answers == [200] * 4
    logged = web.wait_for(r"Invalid request from ip=").string
    assert len(logged) < GUNICORN_CHARS + 100, "the quoted request line is cut short"


def _hostile_log() -> bytes:
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    hostile = "password" * 600
    log.tool("view", "content", path=f"{agentlogs.WORKDIR}/{hostile}")
    log.chunk([{"delta": {"role": "assistant", "tool_calls": [
        {"id": "toolu_deep", "type": "function", "function": {"name": "bash", "arguments": "[" * 100_000}}]},
        "finish_reason": "tool_calls"}])
    log.line("data: " + "[" * 100_000)
    log.bash("pytest -q", "3 passed in 0.1s")
    log.final("Done.")
    log.chunk([{"delta": {"role": "assistant", "content": "<pr_title>" + " " * 10_000}, "finish_reason": "stop"}])
    log.pr_title(hostile, hostile)
    return agentlogs.run_logs_zip(log.sink.getvalue())


def test_log_of_a_session_whose_log_is_hostile_is_answered_at_the_first_attempt(bot, fake_github):
    """Before: the `<pr_title>` line alone took 491 s, the paths 49 s, and the nested arguments raised
    RecursionError, so the job went round the retry loop re-downloading the log."""
    run = open_session(bot, fake_github)
    fake_github.set_run_log(REPO, run["id"], _hostile_log())
    finished = hooks.run_at(run, "completed", conclusion="success", at=time.time())
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake_github, finished, INSTALLATION))])

    made, _ = comment(bot, fake_github, "/session log")

    [reply] = replies(fake_github, made)
    assert "Copilot session log" in reply["body"] and "pytest -q" in reply["body"]
    assert "password" * 600 not in reply["body"]
    with bot.engine.connect() as conn:
        attempts = conn.execute(select(db.jobs.c.attempts).where(db.jobs.c.kind == "command")).scalars().all()
    assert attempts == [1]


def test_a_pr_body_of_blank_lines_still_gives_the_running_sessions_checklist(bot, fake_github):
    """Before: the checklist pattern was quadratic on blank lines (64k newlines: 21 s)."""
    open_session(bot, fake_github)
    fake_github.actions.pulls[REPO][PR]["body"] = "\n" * 64_000 + "- [x] Fix the parser\n" + " \n" * 64_000

    made, _ = comment(bot, fake_github, "/session log")

    [reply] = replies(fake_github, made)
    assert "Checklist** (1/1 done)" in reply["body"]


def test_a_config_file_nested_too_deeply_is_explained_once_and_the_command_answered(bot, fake_github):
    """Before: RecursionError escaped the config reader; the command's job retried and died unanswered."""
    open_session(bot, fake_github)
    fake_github.set_file(REPO, ".github/session-bot.yml", "[" * 10_000)

    first, _ = comment(bot, fake_github, "/session list")
    comment(bot, fake_github, "/session help")

    assert "running" in replies(fake_github, first)[0]["body"]
    notices = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith("<!-- session-bot:config -->")]
    assert len(notices) == 1 and "nests values too deeply" in notices[0]["body"]
