"""`/session help` (or the prefix alone): what the bot understands."""

from __future__ import annotations

from bot.commands.registry import command, help_table


@command("help", summary="Show this help.", default=True)
def show_help(invocation, args) -> str:
    """The help table, generated from what the commands declare."""
    return (f"commands go on a line of their own in a pull request comment; `N` is a session's number "
            f"on this pull request (see `{invocation.prefix} list`).\n\n{help_table(invocation.prefix)}")
