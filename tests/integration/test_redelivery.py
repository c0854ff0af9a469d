"""Missed deliveries end to end: GitHub could not reach the bot; once it is back, the redelivery it
asks for is stored and processed once, and what it refused on purpose is never asked for again."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from bot import db
from tests.fakegithub import payloads
from tests.integration.conftest import SECRET
from tests.harness.processes import ROOT

pytestmark = pytest.mark.slow


def down_url() -> str:
    """The webhook URL of a bot that is not running: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/github/webhooks"


def installation_created(installation_id: int) -> dict:
    return payloads.with_installation(payloads.example("installation", "created"), installation_id)


def processed_once(bot, fake, guid: str) -> None:
    """The delivery is stored, its one job done at the first attempt, its handler's calls made once."""
    delivery = db.deliveries.c.guid == guid
    bot.wait_until(lambda: bot.count(db.deliveries, delivery, db.deliveries.c.outcome == "done") == 1,
                   what=f"delivery {guid} to be processed")
    with bot.engine.connect() as conn:
        [job] = conn.execute(db.jobs.select().join(db.deliveries).where(delivery)).all()
    assert (job.state, job.attempts) == ("done", 1)
    assert len(fake.calls("GET", "/installation/repositories")) == 1


def test_the_periodic_job_recovers_a_delivery_made_while_the_bot_was_down(bot, fake_github):
    fake_github.add_installation(321, "octo-org", ["octo-org/a"])
    missed = fake_github.send_webhook(down_url(), SECRET, "installation", installation_created(321), guid="missed")
    assert missed["status_code"] == 0

    bot.start_web(REDELIVERY_INTERVAL_SECONDS=1)
    fake_github.webhook_url, fake_github.webhook_secret = bot.webhook_url, SECRET  # the App's settings
    forged = fake_github.send_webhook(bot.webhook_url, "not the secret", "installation", installation_created(321),
                                      guid="forged")
    assert forged["status_code"] == 401

    processed_once(bot, fake_github, "missed")
    assert [a["redelivery"] for a in fake_github.attempts_of("missed")][-1] is True
    # Several more runs see the forged delivery; none may ask for it (signed anew, it would pass).
    runs = len(fake_github.calls("GET", "/app/hook/deliveries"))
    bot.wait_until(lambda: len(fake_github.calls("GET", "/app/hook/deliveries")) >= runs + 3, what="more runs")
    assert [a["redelivery"] for a in fake_github.attempts_of("forged")] == [False]
    assert bot.count(db.deliveries, db.deliveries.c.guid == "forged") == 0
    processed_once(bot, fake_github, "missed")


def test_an_operator_recovers_with_the_cli(bot, fake_github):
    fake_github.add_installation(321, "octo-org", ["octo-org/a"])
    fake_github.send_webhook(down_url(), SECRET, "installation", installation_created(321), guid="missed")
    bot.start_web()
    fake_github.webhook_url, fake_github.webhook_secret = bot.webhook_url, SECRET

    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "deliveries", "redeliver",
                             "--since", "30m"], cwd=ROOT, env=bot.env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("redelivered") and "missed  installation.created" in lines[0]
    assert lines[-1].startswith("total: 1 redelivered, 0 skipped")
    processed_once(bot, fake_github, "missed")
