"""`flask --app app receive`: a payload through the whole bot in process, printing what the bot did."""

from __future__ import annotations

import json

import pytest

from tests.copilot_pr import INSTALLATION, PR, REPO, RUN, comment_payload
from tests.harness.inprocess import InProcessBot


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url, all_due=False, stop_grace_period=60.0)
    yield bot
    bot.dispose()


def receive(bot, tmp_path, event: str, payload: dict, *options: str):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    with bot.app.app_context():
        return bot.app.test_cli_runner().invoke(args=["receive", "--event", event, *options, str(path)])


def test_a_command_comment_is_acknowledged_run_and_its_calls_and_reply_printed(bot, fake_github, tmp_path):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    made, payload = comment_payload(fake_github, "/session list")
    result = receive(bot, tmp_path, "issue_comment", payload, "--wait", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("delivered issue_comment as ") and ": 202 Accepted " in lines[0]
    ran = [line.split()[1] + ": " + line.split(": ")[-1] for line in lines if line.startswith("ran ")]
    assert ran[:2] == ["delivery: done", "command: done"]
    assert f"  POST   /repos/{REPO}/issues/comments/{made['id']}/reactions → 201" in lines
    assert f"  POST   /repos/{REPO}/issues/{PR}/comments → 201" in lines
    written = [line for line in lines if line.startswith("      │ ")]
    assert any("🟢 running" in line for line in written) and any("@hubot" in line for line in written)
    [reply] = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith("<!-- session-bot:reply")]
    assert "\n".join(line[len("      │ "):] for line in written).startswith(reply["body"])


def test_jobs_scheduled_later_are_named_for_a_running_bot(bot, fake_github, tmp_path):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    _made, payload = comment_payload(fake_github, "/session stop")
    fake_github.permissions[(REPO, "hubot")] = "write"
    result = receive(bot, tmp_path, "issue_comment", payload, "--wait", "0")
    assert result.exit_code == 0, result.output
    assert "left queued for a running bot: stop.verify (due in " in result.output


def test_without_the_apps_settings_it_says_what_is_missing(settings, tmp_path):
    from bot.app import create_app, runtime_of

    app = create_app(settings)
    path = tmp_path / "payload.json"
    path.write_text("{}")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["receive", "--event", "ping", str(path)])
    runtime_of(app).dispose()
    assert result.exit_code == 1 and "receive needs the App's settings" in result.output
