"""`flask --app app deliveries redeliver|prune`: what an operator types and reads."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, insert, select

from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.db import deliveries, jobs
from bot.cli.deliveries import parse_duration


@pytest.fixture
def app(settings, app_key, fake_github):
    app = create_app(Settings(**{**settings.__dict__, "app_id": fake_github.app_id, "private_key": app_key.pem,
                                 "webhook_secrets": ("s",), "github_api_url": fake_github.url,
                                 "github_write_interval": 0.001}))
    with app.app_context():  # as `flask --app app …` runs its commands
        yield app
    runtime_of(app).dispose()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["deliveries", *args])


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("2h", 7200), ("3d", 259200),
                                           ("1.5h", 5400), (" 2H ", 7200)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("since, message", [("2 hours", "not a duration"), ("4d", "at most 3d"), ("0m", "at most 3d")])
def test_a_window_github_cannot_serve_is_refused(app, since, message):
    result = run(app, "redeliver", "--since", since)
    assert result.exit_code == 2 and message in result.output


def test_redeliver_prints_a_line_per_failed_delivery_and_a_total(app, fake_github):
    fake_github.record_delivery("old", "issues", "opened", 0, at=time.time() - 3 * 3600)
    fake_github.record_delivery("timed-out", "issues", "opened", 0)
    fake_github.record_delivery("forged", "issues", "opened", 401)
    fake_github.record_delivery("fine", "issues", "opened", 202)

    dry = run(app, "redeliver", "--since", "2h", "--dry-run")
    assert fake_github.calls("POST") == [], "a dry run asks GitHub for nothing"
    real = run(app, "redeliver", "--since", "2h")

    assert dry.exit_code == 0 and real.exit_code == 0, real.output
    assert [line.split()[:2] for line in dry.output.splitlines()[:-1]] == [
        ["would", "redeliver"], ["skipped", "forged"]]
    assert dry.output.splitlines()[-1].startswith("total: 1 to redeliver, 1 skipped, 0 left for later, 1 delivered")
    lines = real.output.splitlines()
    assert lines[0].startswith("redelivered") and "timed-out" in lines[0] and "issues.opened" in lines[0]
    assert "forged" in lines[1] and "refused it on purpose (401 Invalid HTTP Response: 401)" in lines[1]
    assert lines[-1].startswith("total: 1 redelivered, 1 skipped")
    assert len(fake_github.calls("POST", "/app/hook/deliveries/*/attempts")) == 1, "not 'old': outside 2h"


def test_prune_with_a_dry_run_first(app):
    engine = runtime_of(app).engine
    old = time.time() - 30 * 86400
    with engine.begin() as conn:
        delivery_id = conn.execute(insert(deliveries).values(guid="g", event="issues", received_at=old, body=b"{}",
                                                             outcome="done").returning(deliveries.c.id)).scalar()
        conn.execute(insert(jobs).values(kind="delivery", delivery_id=delivery_id, state="done", run_at=old,
                                         created_at=old, finished_at=old))

    dry = run(app, "prune", "--dry-run")
    real = run(app, "prune", "--days", "20")

    counts = "1 done job(s), 1 delivery(ies), 0 redelivery request(s) and 0 cached answer(s)"
    assert dry.output == f"would delete {counts} older than 14 days\n"
    assert real.output == f"deleted {counts} older than 20 days\n"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar() == 0
    assert run(app, "prune", "--days", "2").exit_code == 2, "GitHub keeps deliveries 3 days: fewer is refused"


def test_max_attempts_can_be_raised_after_an_outage_used_them_up(app, fake_github):
    fake_github.record_delivery("g", "issues", "opened", 0)
    for _ in range(3):
        fake_github.record_delivery("g", "issues", "opened", 0, redelivery=True)

    given_up = run(app, "redeliver", "--since", "1h")
    raised = run(app, "redeliver", "--since", "1h", "--max-attempts", "4")

    assert "gave up after 3 redeliveries" in given_up.output
    assert raised.output.startswith("redelivered") and "attempt 4 of 4" in raised.output
