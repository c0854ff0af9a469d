"""Replays change nothing: a signed `installation.deleted` or `installation_repositories.removed`
sent again under a new delivery id forgets nothing GitHub still has installed: no repository, no session."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import db
from tests.fakegithub import payloads
from tests.harness.inprocess import InProcessBot

INSTALLATION, OWNER, REPOS = 91, "octo-org", ["octo-org/app", "octo-org/lib"]


@pytest.fixture
def bot(fake_github, app_key, database_url):
    made = InProcessBot(fake_github, app_key, database_url)
    fake_github.add_installation(INSTALLATION, OWNER, REPOS)
    made.settle([("installation", payloads.with_installation(payloads.example("installation", "created"),
                                                             INSTALLATION))])
    for pr, (run_id, repo) in enumerate(zip((5151, 5152), REPOS), start=7):
        made.open_session(INSTALLATION, repo, pr, run_id)
    yield made
    made.dispose()


def indexed(bot) -> list[str]:
    """The repositories the index covers, as `repository:sessions` (each one its own session)."""
    with bot.engine.connect() as conn:
        names = conn.execute(select(db.repositories.c.full_name)).scalars()
        counts = dict(conn.execute(select(db.sessions.c.repository, func.count()).group_by(db.sessions.c.repository)).all())
    return sorted(f"{name}:{counts.get(name, 0)}" for name in names)


INDEXED = [f"{name}:1" for name in REPOS]


def removal(fake, names: list[str]) -> dict:
    payload = payloads.with_installation(payloads.example("installation_repositories", "removed"), INSTALLATION)
    payload.update(repositories_added=[], repositories_removed=[
        {k: fake.repositories[name.lower()][k] for k in ("id", "node_id", "name", "full_name", "private")}
        for name in names])
    return payload


def test_a_replayed_uninstall_forgets_nothing_while_the_app_is_installed(bot, fake_github):
    """Before: any signed `installation.deleted` wiped the installation and its repositories."""
    deleted = payloads.with_installation(payloads.example("installation", "deleted"), INSTALLATION)

    bot.settle([("installation", deleted)])
    assert indexed(bot) == INDEXED

    fake_github.installations.pop(INSTALLATION)  # uninstalled for real: GitHub answers 404
    bot.settle([("installation", deleted)])
    assert indexed(bot) == []


def test_a_replayed_removal_keeps_the_repositories_still_installed(bot, fake_github):
    """Before: any signed `installation_repositories.removed` dropped the repositories it named."""
    bot.settle([("installation_repositories", removal(fake_github, ["octo-org/lib"]))])
    assert indexed(bot) == INDEXED

    fake_github.installation_repositories[INSTALLATION].remove("octo-org/lib")  # removed for real
    bot.settle([("installation_repositories", removal(fake_github, ["octo-org/lib"]))])
    assert indexed(bot) == ["octo-org/app:1"]
