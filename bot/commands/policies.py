"""Who may use a command: named policies a command declares, checked before its handler runs.

A policy is asked about the person who gave the command (an `Asker`) and, for a command that acts
on sessions, about each session it would act on (its starter may count). The asker's GitHub facts
are looked up lazily and once: a command anyone may use costs no permission lookup, and whether
the repository is public is asked only when it decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from bot.github.api import ROLES
from bot.repo_config import PATH, RepoConfig

WRITE = ROLES[:3]  # admin, maintain, write


class Asker:
    """The commenter, as policies ask about them; each lookup runs at most once, when first needed."""

    def __init__(self, login: str, config: RepoConfig, *, level: Callable[[], str], public: Callable[[], bool],
                 in_team: Callable[[str], bool]):
        self.login = login
        self.config = config
        self._level, self._public, self._in_team = level, public, in_team

    @cached_property
    def level(self) -> str:
        """Their role on the repository: one of ROLES."""
        return self._level()

    @cached_property
    def public(self) -> bool:
        """Whether the repository is public (where GitHub reports read access for everyone)."""
        return self._public()

    def in_team(self, team: str) -> bool:
        """Whether they are an active member of `team` ("org/slug")."""
        return self._in_team(team)


@dataclass(frozen=True)
class Policy:
    """A named rule: `allows(asker, starter)`, where `starter` started the session acted on (None: no session)."""

    name: str
    who: str  # in the help table: "people with write access"
    rule: Callable[[Asker, str | None], bool]
    only: str = ""  # in a refusal, "Only {only} may …" (the help's words when empty)

    def allows(self, asker: Asker, starter: str | None = None) -> bool:
        """Whether `asker` may act (on a session `starter` started, when given)."""
        return self.rule(asker, starter)

    def for_repository(self, config: RepoConfig) -> Policy:
        """The policy that applies in a repository with `config`: this one."""
        return self

    @property
    def refusal_who(self) -> str:
        """Who may, as a refusal names them."""
        return self.only or self.who


@dataclass(frozen=True)
class ChosenByConfig:
    """A policy the repository's config file picks (`default` when it says nothing)."""

    default: Policy
    choose: Callable[[RepoConfig], Policy]

    @property
    def who(self) -> str:
        """The default's words: the help table is the same in every repository."""
        return self.default.who

    def for_repository(self, config: RepoConfig) -> Policy:
        """The policy `config` picks."""
        return self.choose(config)


def starter_may_stop(level: str, login: str, starter: str | None, public: Callable[[], bool]) -> bool:
    """Whether `login` started the session and may still stop it: while they can read the repository,
    or, on a public repository (where GitHub reports read for everyone), while they can triage or more.

    `public` is asked only when it decides: for a starter who can only read.
    """
    if not starter or starter.lower() != login.lower() or level not in ROLES[:-1]:
        return False
    return level != "read" or not public()


def _is_starter(asker: Asker, starter: str | None) -> bool:
    return starter_may_stop(asker.level, asker.login, starter, lambda: asker.public)


def _writers_or_starter(asker: Asker, starter: str | None) -> bool:
    if asker.level in WRITE:
        return True
    return asker.level != "none" and _is_starter(asker, starter)


def _listed(asker: Asker, users: tuple[str, ...], teams: tuple[str, ...]) -> bool:
    """The asker is one of `users`, or an active member of one of `teams` (asked only when it decides)."""
    return asker.login.lower() in {user.lower() for user in users} or any(asker.in_team(team) for team in teams)


def listed_or_starter(users: tuple[str, ...], teams: tuple[str, ...]) -> Policy:
    """Only the listed people and members of the listed teams ("org/slug"), and the session's starter;
    never anyone without access to the repository, listed or not."""

    def rule(asker: Asker, starter: str | None) -> bool:
        if asker.level == "none":
            return False
        return _is_starter(asker, starter) or _listed(asker, users, teams)

    return Policy("listed people and teams", f"the people and teams `{PATH}` lists, or who started the session",
                  rule, only=f"the people and teams `{PATH}` lists, or who started the session,")


def writers_or_listed(users: tuple[str, ...], teams: tuple[str, ...]) -> Policy:
    """People with write access or more, and the people and teams `stop` lists in the repository's
    config (whatever its `allow`); never anyone without access, listed or not. For a command that acts
    on no session: there is no starter to fall back on."""

    def rule(asker: Asker, starter: str | None) -> bool:
        if asker.level in WRITE:
            return True
        return asker.level != "none" and _listed(asker, users, teams)

    return Policy("writers or listed", f"people with write access, or listed under `stop` in `{PATH}`", rule)


ANYONE = Policy("anyone", "anyone who can comment", lambda asker, starter: True)
WRITERS = Policy("writers", "people with write access", lambda asker, starter: asker.level in WRITE)
WRITERS_OR_STARTER = Policy(
    "writers or the starter",
    "people with write access, or who started the session (on a public repository: with triage access)",
    _writers_or_starter)
