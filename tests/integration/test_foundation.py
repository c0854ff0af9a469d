"""The foundation end to end: gunicorn serving app:app, the fake GitHub on real sockets."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from bot import db
from tests.fakegithub import payloads
from tests.integration.conftest import SECRET
from tests.harness.processes import ROOT, bot_env

pytestmark = pytest.mark.slow


def installation_created(installation_id: int) -> dict:
    return payloads.with_installation(payloads.example("installation", "created"), installation_id)


def test_an_installation_is_recorded_with_every_repository_github_lists(bot, fake_github):
    fake_github.add_installation(321, "octo-org", [f"octo-org/repo-{n}" for n in range(120)])
    bot.start_web()

    response = bot.deliver("installation", installation_created(321))

    assert response.status_code == 202
    bot.wait_until(lambda: bot.count(db.repositories) == 120 and bot.jobs_settled(), what="the sync")
    assert len(fake_github.calls("POST", "/app/installations/321/access_tokens")) == 1
    assert [r.query.get("page", ["1"])[0] for r in fake_github.calls("GET", "/installation/repositories")] \
        == ["1", "2"]
    assert bot.count(db.deliveries, db.deliveries.c.outcome == "done") == 1


def test_acceptance_answers_over_real_http(bot):
    bot.start_web()
    comment = payloads.with_installation(payloads.example("issue_comment", "created"), 5)
    comment["comment"]["body"] = "planted-body-marker ghp_" + "x" * 36
    body = json.dumps(comment).encode()
    signed = payloads.headers("issue_comment", body, SECRET, delivery="same-id")

    assert requests.post(bot.webhook_url, data=body, headers=signed).status_code == 202
    assert requests.post(bot.webhook_url, data=body, headers=signed).status_code == 202
    assert (bot.count(db.deliveries), bot.count(db.jobs)) == (1, 0), \
        "the same delivery id twice is stored once (and, holding no command, needs no job)"

    forged = {**payloads.headers("issue_comment", body, "wrong secret")}
    assert requests.post(bot.webhook_url, data=body, headers=forged).status_code == 401
    unsigned = {k: v for k, v in signed.items() if k != "X-Hub-Signature-256"} | {"X-GitHub-Delivery": "x"}
    assert requests.post(bot.webhook_url, data=body, headers=unsigned).status_code == 401
    not_json = b"<xml/>"
    assert requests.post(bot.webhook_url, data=not_json,
                         headers=payloads.headers("issues", not_json, SECRET)).status_code == 400
    assert bot.count(db.deliveries) == 1

    assert oversized_post(bot.webhook_url) == 413
    assert requests.get(bot.web.url + "/readyz").json()["status"] == "ok"
    assert "planted-body-marker" not in bot.web.text(), "no body reaches the logs"


def test_bad_settings_stop_gunicorn_with_one_line_naming_the_variable(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gunicorn", "app:app", "--bind", "127.0.0.1:0"], cwd=ROOT,
                            env=bot_env(APP_ID="12", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "session-bot: configuration error: PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set; "
        "the other GitHub App settings are"]


def oversized_post(url: str) -> int:
    """Announce a 26 MB body, send only its first bytes: the answer must come without the rest."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall((f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                      f"X-GitHub-Event: push\r\nContent-Length: {26 * 1024 * 1024}\r\n\r\n").encode() + b"{" * 1024)
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_metrics_count_across_gunicorn_workers(bot, fake_github):
    fake_github.add_installation(321, "octo-org", ["octo-org/a"])
    bot.start_web()
    for _ in range(6):
        assert bot.deliver("installation", installation_created(321)).status_code == 202
    bot.wait_until(bot.jobs_settled, what="jobs to finish")
    text = requests.get(bot.web.url + "/metrics").text
    assert 'sessionbot_webhook_responses_total{status="202"} 6.0' in text
    assert 'sessionbot_deliveries{event="installation",outcome="done"} 6.0' in text
    assert 'sessionbot_github_requests_total{method="GET",status="200"}' in text


def test_a_worker_killed_mid_job_has_the_job_finished_once_after_restart(bot, fake_github):
    """SIGKILL the separate worker while its job waits on GitHub; a new worker finishes it."""
    fake_github.add_installation(321, "octo-org", ["octo-org/a", "octo-org/b"])
    fake_github.fail("GET", "/installation/repositories", mode="timeout", delay=2.0)
    bot.start_web(BOT_INLINE_WORKERS=0)
    worker = bot.start_worker()

    assert bot.deliver("installation", installation_created(321)).status_code == 202
    bot.wait_until(lambda: fake_github.calls("GET", "/installation/repositories"), what="the job to call GitHub")
    worker.stop(signal.SIGKILL)
    bot.start_worker()

    delivery_job = db.jobs.c.kind == "delivery"
    bot.wait_until(lambda: bot.count(db.jobs, delivery_job, db.jobs.c.state == "done") == 1, timeout=30,
                   what="the job")
    with bot.engine.connect() as conn:
        job = conn.execute(db.jobs.select().where(delivery_job)).one()
    assert job.attempts == 2, "the killed attempt, then one that finished"
    assert bot.count(db.repositories) == 2
    answered = [r for r in fake_github.calls("GET", "/installation/repositories") if r.status == 200]
    assert len(answered) == 2, "the first answer went to a dead worker; the second completed the job"


def test_web_and_several_workers_share_one_postgresql(pg_bot, fake_github):
    """Scale-out: deliveries acknowledged by the web, each job run exactly once by one of the
    separate workers, which LISTEN for new jobs instead of waiting for their next poll."""
    bot = pg_bot
    fake_github.add_installation(321, "octo-org", ["octo-org/a"])
    bot.env["JOB_POLL_SECONDS"] = "60"  # only a NOTIFY can wake them in time
    bot.start_web(BOT_INLINE_WORKERS=0)
    bot.start_worker(), bot.start_worker()

    for _ in range(20):
        assert bot.deliver("installation", installation_created(321)).status_code == 202
    delivery_jobs = db.jobs.c.kind == "delivery"
    bot.wait_until(lambda: bot.count(db.jobs, delivery_jobs, db.jobs.c.state == "done") == 20, timeout=20,
                   what="20 jobs")
    assert bot.count(db.jobs, delivery_jobs, db.jobs.c.attempts != 1) == 0
