"""`flask --app app sessions sync|list`: reconcile a repository from the API, then read the index."""

from __future__ import annotations

import json
import time

import pytest

from bot.app import create_app, runtime_of
from bot.config import Settings
from bot.db import installations, repositories

REPO = "octo-org/app"


@pytest.fixture
def app(settings, app_key, fake_github):
    app = create_app(Settings(**{**settings.__dict__, "app_id": fake_github.app_id, "private_key": app_key.pem,
                                 "webhook_secrets": ("s",), "github_api_url": fake_github.url}))
    with app.app_context():  # as `flask --app app …` runs its commands
        yield app
    runtime_of(app).dispose()


def known_repository(app, fake):
    fake.add_installation(31, "octo-org", [REPO])
    repo = fake.repositories[REPO]
    with runtime_of(app).engine.begin() as conn:
        conn.execute(installations.insert().values(id=31, account_login="octo-org", account_type="Organization",
                                                   suspended=False, created_at=0, updated_at=0))
        conn.execute(repositories.insert().values(id=repo["id"], installation_id=31, full_name=REPO, private=True,
                                                  added_at=0))


def test_sync_then_list(app, fake_github):
    known_repository(app, fake_github)
    now = time.time()
    fake_github.add_run(REPO, 101, conclusion="success", pull_requests=[3], created_at=now - 7200,
                        triggering_actor="monalisa")
    fake_github.add_run(REPO, 102, conclusion="failure", pull_requests=[3], created_at=now - 3600,
                        triggering_actor="monalisa")
    fake_github.add_run(REPO, 103, path=".github/workflows/ci.yml", event="push", created_at=now - 60)
    fake_github.add_pull(REPO, 3)
    runner = app.test_cli_runner()

    synced = runner.invoke(args=["sessions", "sync", REPO])
    listed = runner.invoke(args=["sessions", "list", "--repo", REPO])
    failed = runner.invoke(args=["sessions", "list", "--state", "failed", "--json"])

    assert synced.exit_code == 0 and f"{REPO}: 2 session(s) reconciled" in synced.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2 and "#3 session 2" in lines[0] and "run 102" in lines[0]
    assert "#3 session 1" in lines[1] and "completed" in lines[1] and "started by monalisa" in lines[1]
    [row] = [json.loads(line) for line in failed.output.strip().splitlines()]
    assert (row["run_id"], row["state"], row["conclusion"]) == (102, "failed", "failure")


def test_sync_of_an_unknown_repository_says_so(app):
    result = app.test_cli_runner().invoke(args=["sessions", "sync", "nobody/nothing"])
    assert result.exit_code != 0 and "not a repository of any installation" in result.output


def test_a_bad_cursor_is_refused(app):
    result = app.test_cli_runner().invoke(args=["sessions", "list", "--cursor", "garbage"])
    assert result.exit_code != 0 and "--cursor" in result.output
