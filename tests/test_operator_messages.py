"""What an operator reads when something goes wrong: each message triggered for real, and its line read."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time

import pytest
from sqlalchemy.engine import make_url

from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.worker import WorkerPool

from tests.copilot_pr import comment_payload
from tests.harness.inprocess import InProcessBot
from tests.harness.processes import ROOT, bot_env
from tests.harness.tcp_proxy import TcpProxy

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url, job_max_attempts=3, job_retry_base=60.0)
    yield bot
    bot.dispose()


def test_github_unreachable_names_the_host_how_long_retries_go_on_and_then_how_to_retry(bot, fake_github, caplog):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    host = fake_github.url.split("//", 1)[1].split("/", 1)[0]
    fake_github.fail("GET", "*", mode="reset", times=100)  # GitHub drops every connection
    caplog.set_level(logging.INFO, logger="bot.worker")
    repository_id = fake_github.repositories[REPO]["id"]
    with bot.engine.begin() as conn:  # a read of the pull request's timeline: it asks GitHub
        bot.runtime.queue.enqueue(conn, "sessions.timeline", dict(installation_id=INSTALLATION, repository_id=repository_id,
                                                                  repository=REPO, number=PR))
    for day in range(2, 6):  # each retry's backoff has passed
        bot.runtime.queue.clock = lambda day=day: time.time() + day * 86_400
        bot.drain()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.worker"]
    failed = [line for line in lines if line.startswith("job failed")]
    assert failed[0].startswith("job failed (attempt 1 of 3, retrying for about 3 min more): ")
    assert f"{host} could not be reached (ConnectionError) on GET /repos/{REPO}" in failed[0]
    assert failed[1].startswith("job failed (attempt 2 of 3, retrying for about 2 min more): ")
    [gave_up] = [line for line in lines if line.startswith("gave up")]
    assert gave_up.startswith("gave up on job ") and "(sessions.timeline) after 3 attempt(s)" in gave_up
    job_id = gave_up.split()[4]
    assert gave_up.endswith(f"once the cause is fixed, run `flask --app app jobs retry {job_id}`")


def test_each_command_answered_is_one_line_with_where_how_and_how_long_and_nothing_the_commenter_wrote(
        bot, fake_github, caplog):
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    caplog.set_level(logging.INFO, logger="bot.commands")
    for body in ("/session list", "/session frobnicate <img src=x> ghp_" + "a1B2" * 9):
        _made, payload = comment_payload(fake_github, body)
        bot.settle([("issue_comment", payload)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("command ")]
    assert len(lines) == 2
    assert lines[0].startswith(f"command list on {REPO}#{PR}: answered in ") and lines[0].endswith(" s")
    assert lines[1].startswith(f"command not understood on {REPO}#{PR}: answered in ")
    assert not any("frobnicate" in r.getMessage() or "img" in r.getMessage() for r in caplog.records)


def test_each_delivery_is_one_line_with_its_event_action_id_and_repository(bot, fake_github, caplog):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    caplog.set_level(logging.INFO, logger="bot.webhooks")
    _made, payload = comment_payload(fake_github, "just a comment")
    bot.deliver("issue_comment", payload, delivery="d-1")
    payload["repository"]["full_name"] = "octo-org/app\nINFO forged line"  # not a name GitHub gives
    bot.deliver("issue_comment", payload, delivery="d-2")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.webhooks"]
    assert lines == [f"delivery d-1 (issue_comment.created on {REPO}): ignored: no handler wants it",
                     "delivery d-2 (issue_comment.created): ignored: no handler wants it"]


DEAD_DATABASES = ["sqlite:////proc/bot.sqlite3", "postgresql://postgres@127.0.0.1:9/bot"]


@pytest.mark.parametrize("database_url", DEAD_DATABASES, ids=["sqlite", "postgres"])
@pytest.mark.parametrize("command", [["-m", "gunicorn", "app:app", "--bind", "127.0.0.1:0"], ["-m", "bot.worker"]],
                         ids=["gunicorn", "worker"])
def test_a_database_down_at_startup_stops_the_process_with_one_line(command, database_url, tmp_path):
    """Before: gunicorn restarted workers that failed to load the app, forever; the worker printed a traceback."""
    env = bot_env(DATABASE_URL=database_url, HOME=str(tmp_path))
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    shown = database_url.replace("postgresql://", "postgresql+psycopg://")
    assert result.returncode == 1
    assert result.stderr.startswith(f"session-bot: DATABASE_URL {shown} cannot be used: "), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.fixture
def behind_proxy(empty_postgres_url, fake_github, app_key):
    """The app on PostgreSQL through a TCP proxy the test can cut; (its test client, the proxy)."""
    url = make_url(empty_postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    settings = Settings(database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                        admin_token="a" * 40, log_format="text", app_id=fake_github.app_id, private_key=app_key.pem,
                        webhook_secrets=("s",), github_api_url=fake_github.url, inline_workers=False)
    app = create_app(settings)
    yield app.test_client(), proxy
    proxy.cut()
    runtime_of(app).dispose()


def test_the_database_lost_while_running_is_a_short_503_on_every_page_and_one_log_line(behind_proxy, caplog):
    client, proxy = behind_proxy
    operator = {"Authorization": "Bearer " + "a" * 40}
    assert client.get("/").status_code == 200
    proxy.cut()
    caplog.set_level(logging.INFO, logger="bot.pages")
    answers = [client.get(path, headers=operator) for path in ("/", "/metrics", "/sessions", "/api/sessions", "/")]
    assert [a.status_code for a in answers] == [503] * 5
    assert answers[0].get_data(as_text=True) == "The database is not answering; try again in a minute.\n"
    assert answers[3].get_json() == {"message": "The database is not answering; try again in a minute."}
    proxy.restore()
    assert client.get("/").status_code == 200
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.pages"]
    assert len(lines) == 2 and lines[0][0] == "ERROR" and "Traceback" not in lines[0][1]
    assert lines[0][1].startswith("the database, answering a page: OperationalError: ")
    assert lines[1] == ("WARNING", "the database, answering a page works again, after 5 failure(s)")


def replace_settings(runtime, **changes):
    """The runtime with some settings changed (the pool reads its poll interval from them)."""
    return dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings, **changes))


def test_job_workers_losing_the_database_log_one_line_not_a_traceback_a_poll(behind_proxy, caplog):
    client, proxy = behind_proxy
    runtime = runtime_of(client.application)
    pool = WorkerPool(replace_settings(runtime, job_poll_interval=0.02), 2).start()
    try:
        proxy.cut()
        caplog.set_level(logging.INFO, logger="bot.worker")
        time.sleep(0.5)  # ~25 polls of each thread
        proxy.restore()
        time.sleep(0.3)
    finally:
        pool.stop(5)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.worker"]
    claims = [(level, line) for level, line in lines if line.startswith("claiming jobs from the database")]
    assert [level for level, _line in claims] == ["ERROR", "WARNING"], lines
    assert claims[0][1].startswith("claiming jobs from the database: OperationalError: ")
    assert claims[1][1].startswith("claiming jobs from the database works again, after ")
    assert len(lines) <= 4, "at most one line more each for the LISTEN connection, if it noticed"
    assert not any(r.exc_info for r in caplog.records if r.name == "bot.worker")
