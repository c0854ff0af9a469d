"""Write docs/commands.md: what the bot's comments look like, rendered by the bot's own code.

    .venv/bin/python docs/samples.py        # rewrite docs/commands.md and the README's table of commands
tests/test_docs.py fails when the file and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parents[1]))

from bot.commands.session_text import sessions_table  # noqa: E402
from docs.marked_block import splice  # noqa: E402
from bot.commands.command_lines import find_commands  # noqa: E402
from bot.commands.arguments import Arguments  # noqa: E402
from bot.commands.registry import commands, help_table, interpret, not_understood  # noqa: E402
from bot.commands.replies import reply_body as reply  # noqa: E402
from bot.logs.reader import read_events  # noqa: E402
from bot.logs.render import summary_markdown as render_log  # noqa: E402
from bot.logs.summary import summarise  # noqa: E402
from bot.handlers.status_comment import status_body as status  # noqa: E402
from tests import agentlogs  # noqa: E402

import bot.handlers  # noqa: E402,F401  (registers the commands)

OUT = Path(__file__).parent / "commands.md"
NOW = 1_764_000_000.0  # a fixed "now", so the file only changes when the code does
RUN_URL = "https://github.com/octo-org/app/actions/runs/{}"


def _session(number, run_id, state, starter, started, finished=None, attempt=1):
    return SimpleNamespace(number=number, run_id=run_id, state=state, starter=starter, created_at=started,
                           started_at=started + 4, finished_at=finished, run_attempt=attempt,
                           html_url=RUN_URL.format(run_id), backfilled=False)


SESSIONS = [
    _session(1, 9001, "completed", "monalisa", NOW - 7200, NOW - 6100),
    _session(2, 9002, "failed", "monalisa", NOW - 3600, NOW - 3300),
    _session(3, 9003, "in_progress", "hubot", NOW - 754, attempt=2),
]


def _command(text: str):
    return SimpleNamespace(comment_id=2_000_000_042, position=0, text=text, sender_login="hubot")


def _agent_log_summary():
    log = agentlogs.AgentLog()
    agentlogs.session(log, turns=2)
    return summarise(read_events(log.stream()))


WHICH_LINES = (
    "A command is a line of its own in a pull request comment, as GitHub shows the comment: a line of a "
    "paragraph at the top level of the comment (not in a quote, a list, a code block or span, a table, a heading, "
    "raw HTML or an HTML comment) that starts with `/session` as a whole word, in any case (`/sessions` is another "
    "word). GitHub's own markdown parser, cmark-gfm, decides what is a paragraph, and lines end only where GitHub "
    "ends them, at a line feed or a carriage return: U+2028, U+2029, U+0085, `\\v` and `\\f` do not. The line must "
    "start with the prefix as written too, so an escape (`\\/session`) or an entity (`&#47;session`) that shows as "
    "`/session` is not a command. Several commands in one comment run in the order written; an edited comment runs "
    "only the command lines it added. Quoting a comment (`>`, as GitHub's *Quote reply* does) never runs its "
    "commands."
)
IN_DETAILS = (
    "**Inside `<details>`**, commands count as GitHub renders them. A paragraph set apart by blank lines inside "
    "`<details>` is markdown that GitHub renders and shows once the fold is opened: its lines are commands. Lines "
    "written against the HTML, with no blank line between them and `<details>`, `<summary>` or `</details>`, are "
    "part of an HTML block to GitHub's parser, not a paragraph: they are not commands, although GitHub shows them as "
    "plain text. The same holds after any line of HTML: leave a blank line before a command."
)
EXAMPLES = [
    "Thanks!\n/session stop 2",
    "/session list\n/session log 1",
    "please /session stop",
    "`/session stop`",
    "> /session stop",
    "> how far is it?\n/session stop all",
    "how far is it? \u2028/session stop all",
    "- a list item\n/session stop",
    "```\n/session stop\n```",
    "Logs:\n\n    /session stop",
    "<pre>\n/session stop\n</pre>",
    "see <!-- not yet\n/session stop\n-->",
    "<details>\n<summary>Commands</summary>\n\n/session stop 1\n\n</details>",
    "<details>\n<summary>Commands</summary>\n/session stop 1\n</details>",
]


def _which_lines() -> str:
    rows = ["| The comment (`\\n` ends a line) | Commands run |", "|---|---|"]
    for body in EXAMPLES:
        written = body.encode("unicode_escape").decode("ascii").replace("\\\\", "\\")
        found = ", ".join(_code(c.text) for c in find_commands(body)) or "none"
        rows.append(f"| {_code(written)} | {found} |")
    return "\n\n".join([WHICH_LINES, "\n".join(rows), IN_DETAILS])


def _code(text: str) -> str:
    """`text` as a code span in a table cell."""
    fence = "`" * (max((len(run) for run in "".join(c if c == "`" else " " for c in text).split()), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def build() -> str:
    """The whole of docs/commands.md."""
    log_body = render_log(_agent_log_summary(), state="completed", duration=1100.0, run_url=RUN_URL.format(9001),
                          log_url=RUN_URL.format(9001))
    sections = [
        "# What session-bot's comments look like",
        "Generated by `docs/samples.py` from the bot's own rendering code (`tests/test_docs.py` keeps it so). "
        "Each block is the markdown the bot posts, followed by nothing else.",
        "## Which lines are commands",
        _which_lines(),
        "## `/session help`",
        _fenced(reply(_command("/session help"),
                      commands()["help"].handle(SimpleNamespace(prefix="/session"), Arguments()))),
        "## A line that is not a command",
        _fenced(reply(_command("/session deploy"), not_understood(interpret("/session deploy"), "/session"))),
        "## `/session list`",
        _fenced(reply(_command("/session list"),
                      "this pull request's Copilot agent sessions:\n\n" + sessions_table(SESSIONS, NOW))),
        "## `/session log 1`",
        _fenced(reply(_command("/session log 1"), f"here is what the agent did in session 1:\n\n{log_body}")),
        "## The status comment",
        # Run time as the index gives it: each finished session's from its run's own start and end here.
        _fenced(status(SESSIONS, closed=None, now=NOW, prefix="/session",
                       run_seconds={s.run_id: s.finished_at - s.started_at for s in SESSIONS if s.finished_at})),
    ]
    return "\n\n".join(sections) + "\n"


def _fenced(markdown: str) -> str:
    fence = "`" * max(4, max((len(run) for run in markdown.split("\n") if set(run) == {"`"}), default=0) + 1)
    return f"{fence}markdown\n{markdown}\n{fence}"


README = Path(__file__).parents[1] / "README.md"
BEGIN, END = "<!-- commands: generated by docs/samples.py from the commands' declarations -->", "<!-- end of commands -->"


def readme() -> str:
    """README.md with its table of commands regenerated between the markers (the help reply's table)."""
    return splice(README, BEGIN, END, help_table("/session"))


if __name__ == "__main__":
    OUT.write_text(build())
    README.write_text(readme())
    print(f"wrote {OUT} and the commands table in {README}")
