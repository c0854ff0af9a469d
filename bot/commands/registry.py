"""The command registry: each command module declares its name, aliases, arguments, policy and help, once.

As in Prow's plugins, everything a user reads about the commands is generated from what they
declare, so it cannot drift from what they do: the grammar (`interpret`), `/session help`, the
reply to a line that is not understood, and the status comment's hint. Command modules are found,
not listed: every module of `bot/commands/` is imported before the registry is first read, so a
new command is its module (and its test) and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from typing import Callable

from bot.commands import policies
from bot.commands.arguments import Argument, Arguments, Session, read


@dataclass(frozen=True)
class CommandSpec:
    """What a command declares about itself."""

    name: str
    summary: str  # one sentence for the help table
    handle: Callable  # handle(invocation, args) -> str (the reply's body)
    aliases: tuple[str, ...] = ()
    arguments: tuple[Argument, ...] = ()
    policy: policies.Policy | policies.ChosenByConfig = policies.ANYONE
    done: str = ""  # what it did to a session, for a refusal: "stopped" in "not stopped: session 2"
    default: bool = False  # what a line with the prefix alone means

    @property
    def session(self) -> Session | None:
        """Its session argument, if it takes one."""
        return next((a for a in self.arguments if isinstance(a, Session)), None)

    def usage(self, prefix: str) -> str:
        """`/session log [N|latest] [--full]`."""
        return " ".join([prefix, self.name, *(a.usage() for a in self.arguments)])

    def short_usage(self, prefix: str) -> str:
        """`/session log [N]`: the status comment's hint leaves flags and free text out."""
        return " ".join([prefix, self.name, *filter(None, (a.short_usage() for a in self.arguments))])

    def described(self) -> str:
        """What its arguments are, for a malformed line: "`log` takes a session number or `latest`, and `--full`"."""
        if not self.arguments:
            return "it takes no arguments"
        return f"`{self.name}` takes " + ", and ".join(a.described() for a in self.arguments)

    def summary_with_aliases(self) -> str:
        """The summary, naming the aliases: "List … (alias: `status`)."."""
        if not self.aliases:
            return self.summary
        names = ", ".join(f"`{alias}`" for alias in self.aliases)
        return f"{self.summary.rstrip('.')} (alias{'es' if len(self.aliases) > 1 else ''}: {names})."


@dataclass(frozen=True)
class CommandCall:
    """A well-formed command line: the command and its arguments."""

    spec: CommandSpec
    args: Arguments

    @property
    def name(self) -> str:
        """The command's canonical name."""
        return self.spec.name


@dataclass(frozen=True)
class Invalid:
    """A command line that does not parse; the reply explains and shows the help."""

    reason: str


COMMANDS: dict[str, CommandSpec] = {}
_found = threading.Event()
# Reentrant: a command module found may itself ask for the commands while it is imported (dispatch does);
# that inner call returns at once and the outer one finishes the import of the rest.
_finding = threading.RLock()
_importing: list[bool] = []


def command(name: str, *, summary: str, aliases: tuple[str, ...] = (), arguments: tuple[Argument, ...] = (),
            policy: policies.Policy | policies.ChosenByConfig = policies.ANYONE, done: str = "",
            default: bool = False):
    """Register the decorated function, `handle(invocation, args) -> str`, as the command `name`."""

    def register(function):
        taken = {word for spec in COMMANDS.values() for word in (spec.name, *spec.aliases)}
        if clash := taken & {name, *aliases}:
            raise ValueError(f"command {name!r}: {sorted(clash)} registered twice")
        if sum(isinstance(a, Session) for a in arguments) > 1:
            raise ValueError(f"command {name!r}: one session argument at most")
        COMMANDS[name] = CommandSpec(name, summary, function, tuple(aliases), tuple(arguments), policy, done, default)
        return function

    return register


def commands() -> dict[str, CommandSpec]:
    """Every command, by name: the modules of `bot/commands/` are imported first (once), so each has registered."""
    if not _found.is_set():
        with _finding:
            if not _found.is_set() and not _importing:
                _importing.append(True)
                try:
                    package = importlib.import_module("bot.commands")
                    for module in pkgutil.iter_modules(package.__path__):
                        importlib.import_module(f"bot.commands.{module.name}")
                    _found.set()
                finally:
                    _importing.clear()
    return COMMANDS


def interpret(text: str) -> CommandCall | Invalid:
    """Parse one command line (as found by `find_commands`) against the commands' declarations."""
    words = text.split()[1:]  # drop the prefix
    specs = commands().values()
    if not words:
        return CommandCall(next(spec for spec in specs if spec.default), Arguments())
    verb = words[0].lower()
    spec = next((spec for spec in specs if verb == spec.name or verb in spec.aliases), None)
    if spec is None:
        # The reason never repeats the user's words: the reply quotes the line, neutralised, instead.
        return Invalid("that is not a command")
    args = read(spec.arguments, words[1:])
    return CommandCall(spec, args) if args is not None else Invalid(spec.described())


def help_table(prefix: str) -> str:
    """The commands as a markdown table, by name."""
    rows = ["| Command | What it does | Who may use it |", "|---|---|---|"]
    for spec in sorted(commands().values(), key=lambda spec: spec.name):
        usage = spec.usage(prefix).replace("|", "\\|")  # a bare pipe would end the table cell
        rows.append(f"| `{usage}` | {spec.summary_with_aliases()} | {spec.policy.who} |")
    return "\n".join(rows)


def not_understood(invalid: Invalid, prefix: str) -> str:
    """The reply to a line that starts with the prefix but is not a command."""
    return f"I did not understand that: {invalid.reason}.\n\n{help_table(prefix)}"


def hint(prefix: str) -> str:
    """One sentence naming the commands, for the status comment: "Comment `/session list`, … or …; `/session help` for more."."""
    specs = sorted(commands().values(), key=lambda spec: spec.name)
    named = [f"`{spec.short_usage(prefix)}`" for spec in specs if not spec.default]
    listed = ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) > 1 else "".join(named)
    helps = "".join(f"; `{spec.usage(prefix)}` for more" for spec in specs if spec.default)
    return f"Comment {listed} on this pull request{helps}."
