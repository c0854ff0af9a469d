"""The command registry: each command module registers its name, help and handler together.

As in Prow's plugins, the help a user reads (`/session help`, the reply to a typo) is generated
from what the commands declare, so it cannot drift from what they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class CommandSpec:
    """What a command declares about itself."""

    name: str
    usage: str  # after the prefix, e.g. "log [N|latest] [--full]"
    summary: str
    who: str  # who may use it, in words
    handle: Callable  # handle(invocation) -> str (the reply's body)


COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, *, usage: str, summary: str, who: str = "anyone who can comment"):
    """Register the decorated function as the handler of `name`."""

    def register(function):
        if name in COMMANDS:
            raise ValueError(f"command {name!r} is registered twice")
        COMMANDS[name] = CommandSpec(name, usage, summary, who, function)
        return function

    return register


def help_table(prefix: str) -> str:
    """The commands as a markdown table, by name."""
    rows = ["| Command | What it does | Who may use it |", "|---|---|---|"]
    for spec in sorted(COMMANDS.values(), key=lambda spec: spec.name):
        usage = f"{prefix} {spec.usage}".replace("|", "\\|")  # a bare pipe would end the table cell
        rows.append(f"| `{usage}` | {spec.summary} | {spec.who} |")
    return "\n".join(rows)
