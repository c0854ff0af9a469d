"""Browser sessions and sealed tokens (bot/web/accounts.py), the idle prune, and forgetting people.

GitHub's token endpoint is a stub here (`Refresher`): these are the storage rules, including a
refresh race between processes that the fake GitHub cannot stage; tests/test_web_signin.py signs
in through the fake GitHub end to end.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, update

from bot import retention
from bot.caches import user_access
from bot.config import Settings
from bot.db import user_access_cache, user_tokens, web_sessions
from bot.schedule import PERIODIC
from bot.web.accounts import TOUCH_EVERY, Accounts, id_hash
from tests.clock import Clock
from tests.user_tokens import HOUR, Refresher, token

KEY = "k" * 40
ALICE, BOB = 1001, 1002


@pytest.fixture
def clock():
    return Clock(1_700_000_000.0)


@pytest.fixture
def settings(database_url):
    return Settings(database_url=database_url, github_client_id="Iv1.test", github_client_secret="secret",
                    secret_keys=(KEY,), web_session_idle=8 * HOUR, user_token_idle=30 * 24 * HOUR)


@pytest.fixture
def flow(clock):
    return Refresher(clock)


@pytest.fixture
def accounts(engine, settings, flow, clock):
    return Accounts(engine, settings, flow=flow, clock=clock)


def rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table)).all()


def test_a_session_is_found_by_its_id_and_only_the_ids_hash_is_stored(engine, accounts, clock):
    session_id = accounts.open_session(ALICE, "alice", token(clock))
    (row,) = rows(engine, web_sessions)
    assert row.id_hash == id_hash(session_id) and session_id not in row.id_hash
    assert accounts.session(session_id).login == "alice"
    assert accounts.session(session_id + "x") is None


def test_the_token_is_sealed_at_rest_and_opens_for_its_owner(engine, accounts, clock):
    accounts.open_session(ALICE, "alice", token(clock))
    (row,) = rows(engine, user_tokens)
    assert b"ghu_first" not in bytes(row.sealed) and b"ghr_first" not in bytes(row.sealed)
    assert accounts.access_token(ALICE) == "ghu_first"
    with engine.begin() as conn:  # the row moved to another person does not open for them
        conn.execute(insert(user_tokens).values(user_id=BOB, login="bob", sealed=row.sealed, keep=False,
                                                last_used_at=clock(), updated_at=clock()))
    assert accounts.access_token(BOB) is None
    assert [r.user_id for r in rows(engine, user_tokens)] == [ALICE]


def test_last_seen_is_written_at_most_once_a_minute(engine, accounts, clock):
    session_id = accounts.open_session(ALICE, "alice", token(clock))
    start = clock()
    clock.now += TOUCH_EVERY - 1
    accounts.session(session_id)
    assert rows(engine, web_sessions)[0].last_seen_at == start
    clock.now += 1
    accounts.session(session_id)
    assert rows(engine, web_sessions)[0].last_seen_at == clock()


def test_an_idle_session_ends_and_takes_its_token_unless_kept(engine, accounts, clock):
    alice = accounts.open_session(ALICE, "alice", token(clock))
    bob = accounts.open_session(BOB, "bob", token(clock, "bob"))
    accounts.keep_token(BOB, True)
    clock.now += 8 * HOUR + 1
    assert accounts.session(alice) is None
    assert accounts.session(bob) is None
    assert rows(engine, web_sessions) == []
    assert [r.user_id for r in rows(engine, user_tokens)] == [BOB]
    assert accounts.token_kept(BOB) and not accounts.token_kept(ALICE)


def test_signing_in_again_keeps_the_choice_to_keep_the_token(accounts, clock):
    accounts.open_session(ALICE, "alice", token(clock))
    accounts.keep_token(ALICE, True)
    accounts.open_session(ALICE, "alice", token(clock, "second"))
    assert accounts.token_kept(ALICE) and accounts.access_token(ALICE) == "ghu_second"


def test_sign_out_deletes_the_browser_session_the_token_and_the_cached_access(engine, accounts, clock):
    session_id = accounts.open_session(ALICE, "alice", token(clock))
    other = accounts.open_session(BOB, "bob", token(clock, "bob"))
    accounts.keep_token(ALICE, True)
    cache(engine, ALICE, [[7, 70, "octo/a"]])
    accounts.end_session(session_id)
    assert [r.user_id for r in rows(engine, web_sessions)] == [BOB]
    assert [r.user_id for r in rows(engine, user_tokens)] == [BOB]
    assert rows(engine, user_access_cache) == []
    assert accounts.session(other).login == "bob"


def test_an_expiring_token_is_renewed_with_its_refresh_token(engine, accounts, flow, clock):
    accounts.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    clock.now += HOUR - 60  # within the margin: renewed before it can die in flight
    assert accounts.access_token(ALICE) == "ghu_renewed1"
    assert flow.calls == ["ghr_first"]
    assert accounts.access_token(ALICE) == "ghu_renewed1"  # the renewed one is stored, sealed
    assert flow.calls == ["ghr_first"]
    (row,) = rows(engine, user_tokens)
    assert row.expires_at == clock() + 8 * HOUR and b"ghu_renewed1" not in bytes(row.sealed)


def test_a_refused_refresh_forgets_the_person(engine, accounts, flow, clock):
    session_id = accounts.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    flow.refuse = True
    clock.now += HOUR
    assert accounts.access_token(ALICE) is None
    assert rows(engine, user_tokens) == [] and accounts.session(session_id) is None


def test_a_refresh_token_past_its_own_expiry_is_not_sent(engine, accounts, flow, clock):
    accounts.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    clock.now += 181 * 24 * HOUR
    assert accounts.access_token(ALICE) is None and flow.calls == [] and rows(engine, user_tokens) == []


def test_a_refresh_another_process_won_is_used_not_mistaken_for_a_revocation(engine, settings, accounts, flow, clock):
    accounts.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    clock.now += HOUR
    other = Accounts(engine, settings, flow=Refresher(clock), clock=clock)

    def the_other_process_refreshes_first():
        flow.before, flow.refuse = None, True  # GitHub refuses the used refresh token to the loser
        assert other.access_token(ALICE) == "ghu_renewed1"

    flow.before = the_other_process_refreshes_first
    assert accounts.access_token(ALICE) == "ghu_renewed1"
    assert len(rows(engine, web_sessions)) == 1 and len(rows(engine, user_tokens)) == 1


def test_a_token_no_current_key_opens_forgets_the_person(engine, database_url, accounts, flow, clock):
    session_id = accounts.open_session(ALICE, "alice", token(clock))
    rotated = Settings(database_url=database_url, github_client_id="Iv1.test", github_client_secret="secret",
                       secret_keys=("n" * 40,))
    assert Accounts(engine, rotated, flow=flow, clock=clock).access_token(ALICE) is None
    assert accounts.session(session_id) is None


def test_rotation_keeps_tokens_readable_and_reseals_them_under_the_new_key(engine, database_url, accounts, flow, clock):
    accounts.open_session(ALICE, "alice", token(clock, lifetime=HOUR))
    rotated = Accounts(engine, Settings(database_url=database_url, github_client_id="Iv1.test",
                                        github_client_secret="secret", secret_keys=("n" * 40, KEY)),
                       flow=flow, clock=clock)
    assert rotated.access_token(ALICE) == "ghu_first"
    clock.now += HOUR
    assert rotated.access_token(ALICE) == "ghu_renewed1"
    assert accounts.access_token(ALICE) is None  # the old key alone no longer opens what the new one sealed


# -- the idle prune (bot/retention.py) ---------------------------------------------------------------


def cache(engine, user_id, repositories):
    with engine.begin() as conn:
        conn.execute(insert(user_access_cache).values(user_id=user_id, repositories=json.dumps(repositories),
                                                      checked_at=0.0))


def test_the_prune_deletes_idle_sessions_their_tokens_and_kept_tokens_unused_too_long(engine, settings,
                                                                                      accounts, clock):
    carol = 1003
    accounts.open_session(ALICE, "alice", token(clock))            # idle: goes, token with it
    accounts.open_session(BOB, "bob", token(clock, "bob"))          # idle, token kept: the token stays
    accounts.keep_token(BOB, True)
    accounts.open_session(carol, "carol", token(clock, "carol"))    # active: stays
    for user in (ALICE, BOB, carol):
        cache(engine, user, [])
    clock.now += 8 * HOUR + 1
    with engine.begin() as conn:
        conn.execute(update(web_sessions).where(web_sessions.c.user_id == carol).values(last_seen_at=clock()))
    assert retention.prune_signin(engine, settings, now=clock()) == 5  # 2 sessions, 1 token, 2 cached
    assert [r.user_id for r in rows(engine, web_sessions)] == [carol]
    assert sorted(r.user_id for r in rows(engine, user_tokens)) == [BOB, carol]
    assert [r.user_id for r in rows(engine, user_access_cache)] == [carol]
    clock.now += 30 * 24 * HOUR
    retention.prune_signin(engine, settings, now=clock())
    assert rows(engine, user_tokens) == []


def test_the_prune_runs_hourly_only_where_sign_in_is_configured(settings):
    assert PERIODIC["prune-signin"].interval(settings) == HOUR
    assert PERIODIC["prune-signin"].interval(Settings(database_url=settings.database_url)) == 0


# -- forgetting people (bot/caches/user_access.py) -------------------------------------------------------


def test_an_uninstall_drops_access_naming_it_and_the_people_it_was_the_only_access_of(engine, accounts, clock):
    carol = 1003
    for user, login, repositories in ((ALICE, "alice", [[7, 70, "octo/a"]]),
                                      (BOB, "bob", [[7, 70, "octo/a"], [8, 80, "other/b"]]),
                                      (carol, "carol", [[8, 80, "other/b"]])):
        accounts.open_session(user, login, token(clock, login))
        cache(engine, user, repositories)
    assert user_access.forget_installation(engine, 7) == [ALICE]
    assert sorted(r.user_id for r in rows(engine, web_sessions)) == [BOB, carol]
    assert sorted(r.user_id for r in rows(engine, user_tokens)) == [BOB, carol]
    assert [r.user_id for r in rows(engine, user_access_cache)] == [carol]
