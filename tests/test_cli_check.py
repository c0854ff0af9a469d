"""`flask --app app check`: one line per check of a deployment, exit 1 when one fails."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import create_app, runtime_of
from tests.harness.keys import make_app_key

ROOT = Path(__file__).parents[1]


def check(settings):
    app = create_app(settings)
    try:
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["check"])
    finally:
        runtime_of(app).dispose()
    return result.exit_code, result.output.splitlines()


def configured(settings, fake_github, key):
    return replace(settings, app_id=fake_github.app_id, private_key=key.pem, webhook_secrets=("s",),
                   github_api_url=fake_github.url, github_retries=0)


def test_setup_mode_checks_the_database_and_says_what_it_skips(settings):
    code, lines = check(settings)
    assert code == 0
    assert [line.split(":")[0] for line in lines] == ["ok    settings", "skip  private key", "ok    database",
                                                      "skip  GitHub"]
    assert lines[0].startswith("ok    settings: setup mode (no GitHub App settings yet), database ")


def test_a_working_deployment_passes_every_check(settings, fake_github, app_key):
    code, lines = check(configured(settings, fake_github, app_key))
    assert code == 0, lines
    assert lines[1] == "ok    private key: a 2048-bit RSA key that signs and verifies an app JWT"
    assert lines[2].startswith("ok    database: answers, at the newest migration (")
    assert lines[3].startswith("ok    GitHub: GET /app answered: the App ") and "accepts this key" in lines[3]


def test_a_key_github_does_not_know_fails(settings, fake_github):
    with fake_github.expect_auth_failures():  # GitHub's 401, which the fake would otherwise count as a problem
        code, lines = check(configured(settings, fake_github, make_app_key()))
    assert code == 1
    assert lines[3].startswith(f"FAIL  GitHub: refused the App's key for APP_ID {fake_github.app_id}: ")


def test_github_out_of_reach_is_said_and_not_a_failure(settings, fake_github, app_key):
    unreachable = replace(configured(settings, fake_github, app_key), github_api_url="http://127.0.0.1:9")
    code, lines = check(unreachable)
    assert code == 0
    assert lines[3].startswith("skip  GitHub: could not be asked: 127.0.0.1:9 could not be reached (ConnectionError)")


def test_a_database_behind_its_migrations_fails_saying_what_to_run(settings, tmp_path):
    code, lines = check(replace(settings, database_url=f"sqlite:///{tmp_path}/new.sqlite3", auto_migrate=False))
    assert code == 1
    assert lines[2].startswith("FAIL  database: at migration None, the newest is ")
    assert lines[2].endswith(": run `flask --app app db upgrade`")


def test_a_truncated_private_key_stops_loading_with_one_line(tmp_path, app_key):
    truncated = app_key.pem[:200] + "\n-----END RSA PRIVATE KEY-----\n"
    env = {"APP_ID": "42", "PRIVATE_KEY": truncated, "WEBHOOK_SECRET": "s", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), "check"], cwd=tmp_path,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("session-bot: configuration error: PRIVATE_KEY cannot be used: ")
    assert result.stderr.count("\n") == 1
