"""A person's kept token as a job reads it (bot/people/tokens.py): only a token the person chose to keep,
found by user id or login, renewed before it expires, and gone once they are revoked or sign out.

The web stores tokens at sign-in (bot/web/accounts.py, tests/test_web_accounts.py); a worker process
reads them with its own `Tokens`, as here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.caches import user_access
from bot.config import Settings
from bot.db import user_tokens
from bot.people.tokens import Tokens
from bot.web.accounts import Accounts
from tests.clock import Clock
from tests.user_tokens import HOUR, Refresher, token

ALICE, BOB = 1001, 1002


@pytest.fixture
def clock():
    return Clock(1_700_000_000.0)


@pytest.fixture
def web(engine, database_url, clock):
    """The web process: people sign in there."""
    settings = Settings(database_url=database_url, github_client_id="Iv1.test", github_client_secret="secret",
                        secret_keys=("k" * 40,))
    return Accounts(engine, settings, flow=Refresher(clock), clock=clock)


@pytest.fixture
def worker(engine, web, clock):
    """A worker process's view of the same tokens, with its own refresher."""
    return Tokens(engine, web.settings, flow=Refresher(clock), clock=clock)


def stored(engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(user_tokens.c.user_id)).scalars())


def test_a_token_is_a_jobs_only_once_the_person_chose_to_keep_it(web, worker, clock):
    web.open_session(ALICE, "alice", token(clock))
    assert web.access_token(ALICE) == "ghu_first"  # their browser session's
    assert worker.kept_access_token(ALICE) is None and worker.kept_access_token(login="alice") is None
    web.keep_token(ALICE, True)
    assert worker.kept_access_token(ALICE) == worker.kept_access_token(login="ALICE") == "ghu_first"
    web.keep_token(ALICE, False)
    assert worker.kept_access_token(ALICE) is None


def test_a_login_finds_one_kept_token_or_none(web, worker, clock):
    web.open_session(ALICE, "alice", token(clock))
    web.keep_token(ALICE, True)
    assert worker.kept_access_token(login="bob") is None and worker.kept_access_token(BOB) is None
    web.open_session(BOB, "Alice", token(clock, "bob"))  # alice renamed, and another took the login
    web.keep_token(BOB, True)
    assert worker.kept_access_token(login="alice") is None
    assert worker.kept_access_token(BOB) == "ghu_bob"  # the id is never ambiguous


def test_a_kept_token_about_to_expire_is_renewed_for_every_process(web, worker, clock):
    web.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    web.keep_token(ALICE, True)
    clock.now += HOUR - 60
    assert worker.kept_access_token(login="alice") == "ghu_renewed1"
    assert web.access_token(ALICE) == "ghu_renewed1" and web.flow.calls == []


def test_a_revoked_persons_token_is_gone_from_the_database(engine, web, worker, clock):
    web.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    web.keep_token(ALICE, True)
    worker.flow.refuse = True
    clock.now += HOUR
    assert worker.kept_access_token(ALICE) is None
    assert stored(engine) == []


def test_a_signed_out_or_forgotten_persons_token_is_gone_from_the_database(engine, web, worker, clock):
    alice = web.open_session(ALICE, "alice", token(clock))
    web.open_session(BOB, "bob", token(clock, "bob"))
    for person in (ALICE, BOB):
        web.keep_token(person, True)
    web.end_session(alice)
    user_access.forget_user(engine, BOB)  # GitHub's `github_app_authorization` revoked, or an uninstall
    assert worker.kept_access_token(ALICE) is None and worker.kept_access_token(login="bob") is None
    assert stored(engine) == []


def test_a_use_the_person_did_not_ask_for_keeps_a_kept_token_no_longer(engine, web, worker, clock):
    web.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    web.keep_token(ALICE, True)
    web.open_session(BOB, "bob", token(clock, "bob"))
    assert worker.kept_people() == [(ALICE, "alice")], "only those who chose to keep their token"

    def last_used() -> float:
        with engine.connect() as conn:
            return conn.execute(select(user_tokens.c.last_used_at).where(user_tokens.c.user_id == ALICE)).scalar()

    used = last_used()
    clock.now += HOUR - 60  # renewed on the way: still not a use of hers
    assert worker.kept_access_token(ALICE, touch=False) == "ghu_renewed1"
    clock.now += 600
    assert worker.kept_access_token(ALICE, touch=False) == "ghu_renewed1"
    assert last_used() == used, "a periodic refresh does not keep it from USER_TOKEN_IDLE_SECONDS"
    assert worker.kept_access_token(ALICE) == "ghu_renewed1" and last_used() == clock.now
