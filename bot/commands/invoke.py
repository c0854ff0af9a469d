"""From a parsed command line to its reply: which sessions it means, whether the asker may, then the handler.

Everything a command declares is enforced here, before its handler runs, so a handler holds only
what the command does: the sessions it receives are resolved (`bot.sessions.queries.pick`, the one
place that says what "session N" means) and cleared by its policy; a line naming no session there
is answered without it, and so is an asker its policy refuses altogether.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bot.commands.policies import Asker, Policy
from bot.commands.registry import CommandCall, CommandSpec, Invalid, not_understood
from bot.github import api
from bot.repo_config import RepoConfig
from bot.sessions.queries import NoSuchSession, pick

NONE_YET = "there are no Copilot agent sessions on this pull request yet."
NONE_RUNNING = "no session is running on this pull request."


@dataclass
class Invocation:
    """One command as its handler sees it."""

    runtime: Any
    run: Any  # the command_runs row
    client: Any  # the installation's GitHub client
    config: RepoConfig

    @property
    def prefix(self) -> str:
        """The repository's command prefix."""
        return self.config.prefix


@dataclass(frozen=True)
class Refusal:
    """The sessions a command's policy kept it from; reads "not stopped: session 2. Only … may stop a session."."""

    spec: CommandSpec
    policy: Policy
    numbers: tuple[int, ...]

    def __str__(self) -> str:
        numbers = ", ".join(str(n) for n in self.numbers)
        return (f"not {self.spec.done}: session{'s' if len(self.numbers) > 1 else ''} {numbers}. "
                f"Only {self.policy.refusal_who} may {self.spec.name} a session.")


def answer(parsed: CommandCall | Invalid, invocation: Invocation, *, asker: Asker,
           numbered: Callable[[], list]) -> str:
    """The reply body to one line. `numbered()` reads the pull request's numbered sessions, asked only
    for a command that takes a session."""
    if isinstance(parsed, Invalid):
        return not_understood(parsed, invocation.prefix)
    spec, args = parsed.spec, parsed.args
    policy = spec.policy.for_repository(asker.config)
    if (session := spec.session) is not None:
        choice = getattr(args, session.name)
        try:
            targets = pick(numbered(), number=choice.number, every_running=choice.every,
                           latest_running=session.running)
        except NoSuchSession as exc:
            return str(exc)
        if not targets:
            return NONE_RUNNING if session.running or choice.every else NONE_YET
        guarded = [s for s in targets if session.acts_on is None or s.state in session.acts_on]
        refused = [s.number for s in guarded if not policy.allows(asker, s.starter)]
        refusal = Refusal(spec, policy, tuple(refused)) if refused else None
        kept = [s for s in targets if s.number not in refused]
        if not kept:
            return f"{spec.name}:\n- {refusal}"
        args = args.with_values(sessions=kept, refused=refusal)
    elif not policy.allows(asker):
        return f"Only {policy.refusal_who} may use `{invocation.prefix} {spec.name}`."
    return spec.handle(invocation, args)


def asker_of(invocation: Invocation) -> Asker:
    """The commenter, with GitHub's answers about them looked up only when a policy asks."""
    run = invocation.run
    return asker_for(invocation.runtime, invocation.client, invocation.config, installation_id=run.installation_id,
                     repository=run.repository, login=run.sender_login)


def asker_for(runtime, client, config: RepoConfig, *, installation_id: int, repository: str, login: str) -> Asker:
    """Person `login` asking about `repository`, looked up lazily with the installation's `client`."""
    return Asker(
        login, config,
        level=lambda: runtime.permissions.level(client, installation_id, repository, login),
        # As GitHub says now: a repository can turn public any day.
        public=lambda: not api.repository(client, repository).get("private", True),
        in_team=lambda team: _in_team(client, team, login))


def _in_team(client, team: str, login: str) -> bool:
    org, _, slug = team.partition("/")
    membership = api.team_membership(client, org, slug, login)
    return membership is not None and membership.get("state") == "active"
