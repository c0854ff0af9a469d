"""Who may use a command: each policy at every permission level, the lookups each one makes, and the
refusal a stranger gets before `stop`'s handler runs. (End to end: tests/integration/test_commands.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.commands import stop_sessions
from bot.commands.invoke import Invocation, answer
from bot.commands.policies import ANYONE, ROLES, WRITERS, WRITERS_OR_STARTER, Asker, listed_or_starter
from bot.commands.registry import interpret
from bot.repo_config import RepoConfig

STARTER = "monalisa"
LISTED = RepoConfig(stop_allow="listed", stop_users=("alice",), stop_teams=("octo-org/leads",))


class Lookups:
    """The GitHub facts an Asker may ask for, counting each question."""

    def __init__(self, level: str, *, public: bool = False, teams: dict[str, set[str]] | None = None):
        self.answers = {"level": level, "public": public}
        self.teams = teams or {}
        self.asked: list[str] = []

    def asker(self, login: str, config: RepoConfig = RepoConfig()) -> Asker:
        def answer_to(question):
            def ask():
                self.asked.append(question)
                return self.answers[question]
            return ask

        def in_team(team):
            self.asked.append(team)
            return login in self.teams.get(team, set())

        return Asker(login, config, level=answer_to("level"), public=answer_to("public"), in_team=in_team)


@pytest.mark.parametrize("login, level, public, allowed", [
    ("hubot", "read", False, False),       # a reader who did not start it
    ("hubot", "triage", False, False),
    (STARTER, "read", False, True),        # the person who started it may stop it
    (STARTER, "none", False, False),       # …but not once they lost access
    (STARTER, "none", True, False),        # on a public repository everyone reads: that is not access
    (STARTER, "read", True, False),
    (STARTER, "triage", True, True),       # …triage is
    ("hubot", "write", True, True),
    ("hubot", "maintain", False, True),
    ("hubot", "admin", False, True),
    ("Monalisa", "read", False, True),     # logins compare without case
])
def test_writers_or_the_starter(login, level, public, allowed):
    assert WRITERS_OR_STARTER.allows(Lookups(level, public=public).asker(login), STARTER) is allowed


@pytest.mark.parametrize("login, level, allowed", [
    ("alice", "read", True),               # listed
    ("ALICE", "read", True),
    ("carol", "read", True),               # in a listed team
    ("dave", "read", False),
    ("hubot", "write", False),             # writing is not being listed
    ("alice", "none", False),              # listed, but without access to the repository
    (STARTER, "read", True),               # the starter, still
])
def test_listed_people_and_teams(login, level, allowed):
    policy = stop_sessions.POLICY.for_repository(LISTED)
    lookups = Lookups(level, teams={"octo-org/leads": {"carol"}})
    assert policy.allows(lookups.asker(login, LISTED), STARTER) is allowed


@pytest.mark.parametrize("level", ROLES)
def test_anyone_and_writers(level):
    lookups = Lookups(level)
    assert ANYONE.allows(lookups.asker("hubot")) and lookups.asked == [], "anyone: no lookup at all"
    assert WRITERS.allows(lookups.asker("hubot")) is (level in ("admin", "maintain", "write"))


def test_each_lookup_is_made_once_and_only_when_it_decides():
    writer = Lookups("write")
    asker = writer.asker("hubot")
    assert WRITERS_OR_STARTER.allows(asker, STARTER) and WRITERS_OR_STARTER.allows(asker, "other")
    assert writer.asked == ["level"], "a writer: no question about the repository's visibility"
    starter = Lookups("read", public=True)
    assert not WRITERS_OR_STARTER.allows(starter.asker(STARTER), STARTER)
    assert starter.asked == ["level", "public"], "a starter who reads: is that only because it is public?"
    listed = Lookups("read", teams={"octo-org/leads": {"alice"}})
    assert listed_or_starter(("alice",), ("octo-org/leads",)).allows(listed.asker("alice"), STARTER)
    assert listed.asked == ["level"], "listed by name: no team membership asked"


def test_the_repository_config_picks_the_stop_policy_and_the_help_shows_the_default():
    assert stop_sessions.POLICY.for_repository(RepoConfig()) is WRITERS_OR_STARTER
    assert stop_sessions.POLICY.for_repository(LISTED).name == "listed people and teams"
    assert stop_sessions.POLICY.who == WRITERS_OR_STARTER.who


# -- refused before the handler: the handler would need a database, and none is given ------------------

SESSIONS = [SimpleNamespace(number=1, state="completed", starter=STARTER),
            SimpleNamespace(number=2, state="in_progress", starter=STARTER),
            SimpleNamespace(number=3, state="queued", starter=STARTER)]


def stop_reply(line: str, lookups: Lookups, config: RepoConfig = RepoConfig(), login: str = "hubot") -> str:
    invocation = Invocation(runtime=None, run=None, client=None, config=config)
    return answer(interpret(line), invocation, asker=lookups.asker(login, config), numbered=lambda: SESSIONS)


@pytest.mark.parametrize("line, config, reply", [
    ("/session stop", RepoConfig(),
     "stop:\n- not stopped: session 3. Only people with write access, or who started the session (on a public "
     "repository: with triage access) may stop a session."),
    ("/session stop all", RepoConfig(),
     "stop:\n- not stopped: sessions 2, 3. Only people with write access, or who started the session (on a public "
     "repository: with triage access) may stop a session."),
    ("/session stop 2", LISTED,
     "stop:\n- not stopped: session 2. Only the people and teams `.github/session-bot.yml` lists, or who started "
     "the session, may stop a session."),
])
def test_a_stranger_is_refused_with_the_words_of_before(line, config, reply):
    assert stop_reply(line, Lookups("read"), config) == reply


def test_what_needs_no_permission_is_answered_without_asking():
    lookups = Lookups("read")
    assert stop_reply("/session stop 9", lookups) == "there is no session 9 on this pull request."
    assert stop_reply("/session stop 1", lookups) == "stop:\n- session 1 already finished: ✅ completed."
    assert lookups.asked == []
    assert answer(interpret("/session stop"), Invocation(None, None, None, RepoConfig()),
                  asker=lookups.asker("hubot"), numbered=lambda: SESSIONS[:1]) == \
        "no session is running on this pull request."
