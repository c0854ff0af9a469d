"""Settings: setup mode, clear one-line errors naming the variable, Probot-compatible names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, describe, load_settings

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
APP = {"APP_ID": "42", "PRIVATE_KEY": PEM, "WEBHOOK_SECRET": "s3cret"}


def load(**env):
    return load_settings({k: v for k, v in env.items()}, dotenv=None)


def test_no_app_settings_at_all_is_setup_mode():
    settings = load()
    assert settings.setup_mode
    assert settings.database_url == "sqlite:///instance/bot.sqlite3"
    assert settings.webhook_path == "/api/github/webhooks" and settings.port == 3000


def test_full_app_settings():
    settings = load(**{**APP, "WEBHOOK_SECRET": "new, old"})
    assert not settings.setup_mode
    assert settings.app_id == 42 and settings.webhook_secrets == ("new", "old")


@pytest.mark.parametrize("env, names", [
    ({"APP_ID": "42"}, "PRIVATE_KEY"),
    ({"APP_ID": "42", "PRIVATE_KEY": PEM}, "WEBHOOK_SECRET"),
    ({"WEBHOOK_SECRET": "x", "PRIVATE_KEY": PEM}, "APP_ID"),
    ({**APP, "APP_ID": "forty-two"}, "APP_ID"),
    ({**APP, "PRIVATE_KEY": "not a key"}, "PRIVATE_KEY"),
    ({**APP, "PRIVATE_KEY": "", "PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "PRIVATE_KEY_PATH"),
    ({"PORT": "eighty"}, "PORT"),
    ({"PORT": "0"}, "PORT"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"WEBHOOK_PATH": "hooks"}, "WEBHOOK_PATH"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"),
    ({"JOB_LEASE_SECONDS": "-1"}, "JOB_LEASE_SECONDS"),
    ({"STOP_GRACE_SECONDS": "soon"}, "STOP_GRACE_SECONDS"),
    ({"LOG_SUMMARY_BUDGET_SECONDS": "0"}, "LOG_SUMMARY_BUDGET_SECONDS"),
    ({"LOG_SUMMARY_BUDGET_SECONDS": "a minute"}, "LOG_SUMMARY_BUDGET_SECONDS"),
    ({"BOT_INLINE_WORKERS": "maybe"}, "BOT_INLINE_WORKERS"),
    ({"REDELIVERY_INTERVAL_SECONDS": "-5"}, "REDELIVERY_INTERVAL_SECONDS"),
    ({"REDELIVERY_INTERVAL_SECONDS": "often"}, "REDELIVERY_INTERVAL_SECONDS"),
    ({"REDELIVERY_MAX_PER_RUN": "0"}, "REDELIVERY_MAX_PER_RUN"),
    ({"REDELIVERY_MAX_ATTEMPTS": "three"}, "REDELIVERY_MAX_ATTEMPTS"),
    ({"RETENTION_DAYS": "2"}, "RETENTION_DAYS"),
    ({"RETENTION_DAYS": "-1"}, "RETENTION_DAYS"),
])
def test_bad_settings_name_the_variable(env, names):
    with pytest.raises(ConfigError) as error:
        load(**env)
    assert str(error.value).startswith(names)
    assert "\n" not in str(error.value)


def test_private_key_with_literal_backslash_n_and_from_a_file(tmp_path):
    one_line = PEM.replace("\n", "\\n")
    assert load(**{**APP, "PRIVATE_KEY": one_line}).private_key == PEM
    (tmp_path / "key.pem").write_text(PEM)
    assert load(**{**APP, "PRIVATE_KEY": "", "PRIVATE_KEY_PATH": str(tmp_path / "key.pem")}).private_key == PEM


def test_github_enterprise_host_as_probot_spells_it():
    assert load(GHE_HOST="github.example.com").github_api_url == "https://github.example.com/api/v3"
    assert load(GITHUB_API_URL="http://127.0.0.1:9/").github_api_url == "http://127.0.0.1:9"


def test_postgres_urls_use_psycopg():
    assert load(DATABASE_URL="postgres://u:p@db/bot").database_url == "postgresql+psycopg://u:p@db/bot"


def test_dotenv_fills_what_the_environment_lacks(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nexport APP_ID=7\nWEBHOOK_SECRET="quoted"\nPRIVATE_KEY=\'' +
                      PEM.replace("\n", "\\n") + "'\nPORT=4000 # trailing comment\n")
    settings = load_settings({"PORT": "5000"}, dotenv=dotenv)
    assert (settings.app_id, settings.webhook_secrets, settings.port) == (7, ("quoted",), 5000)


def test_describe_never_shows_secrets():
    shown = describe(load(**APP, DATABASE_URL="postgresql://bot:hunter2@db/bot"))
    assert shown["private_key"] == "set" and shown["webhook_secrets"] == "set"
    assert "hunter2" not in str(shown)


@pytest.mark.parametrize("env, line", [
    ({"APP_ID": "42"}, "PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set; the other GitHub App settings are"),
    ({"DATABASE_URL": "mysql://root@db/bot"}, "DATABASE_URL must be sqlite:///path or postgresql://…, got 'db/bot'"),
])
def test_bad_settings_stop_the_check_with_one_line_naming_the_variable(tmp_path, env, line):
    root = __import__("pathlib").Path(__file__).parents[1]
    result = subprocess.run([sys.executable, "-m", "flask", "--app", str(root / "app.py"), "check"], cwd=tmp_path,
                            capture_output=True, text=True, env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})
    assert (result.returncode, result.stderr) == (1, f"session-bot: configuration error: {line}\n")


def test_recovery_and_retention_settings():
    defaults = load()
    assert (defaults.redelivery_interval, defaults.redelivery_max_per_run, defaults.redelivery_max_attempts,
            defaults.retention_days) == (300.0, 50, 3, 14)
    off = load(REDELIVERY_INTERVAL_SECONDS="0", RETENTION_DAYS="0", REDELIVERY_MAX_ATTEMPTS="5")
    assert (off.redelivery_interval, off.retention_days, off.redelivery_max_attempts) == (0.0, 0, 5)


def test_the_log_summary_budget():
    assert load().log_summary_budget == 60.0
    assert load(LOG_SUMMARY_BUDGET_SECONDS="0.5").log_summary_budget == 0.5
