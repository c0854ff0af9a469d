"""The command grammar, written down as a table, and which lines of a comment are commands."""

from __future__ import annotations

import pytest

from bot.commands.parse import Command, Invalid, added_commands, find_commands, parse

GRAMMAR = [
    # line                              parsed
    ("/session help",                   Command("help")),
    ("/session",                        Command("help")),
    ("/SESSION Help",                   Command("help")),
    ("/session list",                   Command("list")),
    ("/session status",                 Command("list")),
    ("/session log",                    Command("log")),
    ("/session log latest",             Command("log")),
    ("/session log 2",                  Command("log", number=2)),
    ("/session log #2",                 Command("log", number=2)),
    ("/session log --full",             Command("log", full=True)),
    ("/session log 3 --full",           Command("log", number=3, full=True)),
    ("/session log --full 3",           Command("log", number=3, full=True)),
    ("/session stop",                   Command("stop")),
    ("/session stop 1",                 Command("stop", number=1)),
    ("/session stop all",               Command("stop", all=True)),
    ("/session stop ALL",               Command("stop", all=True)),
    ("/session log 0",                  Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session log two",                Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session log 1 2",                Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session stop -1",                Invalid("`stop` takes a session number or `all`")),
    ("/session stop 1 now",             Invalid("`stop` takes a session number or `all`")),
    ("/session list mine",              Invalid("it takes no arguments")),
    ("/session help me",                Invalid("it takes no arguments")),
    ("/session deploy",                 Invalid("that is not a command")),
    ("/session @everyone",              Invalid("that is not a command")),
]


@pytest.mark.parametrize("line, parsed", GRAMMAR)
def test_grammar(line, parsed):
    assert parse(line) == parsed


@pytest.mark.parametrize("body, commands", [
    ("/session list", ["/session list"]),
    ("   /session stop 2  ", ["/session stop 2"]),
    ("Thanks!\n/session log\nand\n/session stop", ["/session log", "/session stop"]),
    ("/sessionfoo", []),
    ("/session-list", []),
    ("please /session stop", []),
    ("> /session stop", []),
    ("`/session stop`", []),
    ("```\n/session stop\n```\n/session list", ["/session list"]),
    ("~~~~sh\n/session stop\n~~~\n/session stop\n~~~~\n/session log", ["/session log"]),
    ("<!--\n/session stop\n-->\n/session help", ["/session help"]),
    ("/session list\r\n/session log 1\r\n", ["/session list", "/session log 1"]),
    ("/session list\r/session log 1", ["/session list", "/session log 1"]),
    ("Please:\n    /session stop", ["/session stop"]),  # indented, but it continues a paragraph
    ("[docs]: https://example.com\n/session list", ["/session list"]),
    ("", []),
])
def test_which_lines_are_commands(body, commands):
    assert [c.text for c in find_commands(body)] == commands
    assert [c.position for c in find_commands(body)] == list(range(len(commands)))


def test_a_configured_prefix_replaces_session():
    assert [c.text for c in find_commands("/agent stop\n/session stop", prefix="/agent")] == ["/agent stop"]
    assert parse("/agent stop 2", prefix="/agent") == Command("stop", number=2)


@pytest.mark.parametrize("before, after, added", [
    ("/session list", "/session list\n/session stop", ["/session stop"]),
    ("/session list", "typo fixed\n/session list", []),
    ("/session log", "/session stop\n/session log", ["/session stop"]),
    ("/session log", "/session log\n/session log", ["/session log"]),
    ("nothing", "/session   LOG", ["/session   LOG"]),
    ("/session LOG", "/session log", []),
    ("> /session stop", "> /session stop\n\n/session stop", ["/session stop"]),  # quoting, then giving it
    ("/session stop", "> /session stop\n\n/session list", ["/session list"]),
    ("    /session stop", "/session stop", ["/session stop"]),  # un-indented: now a paragraph line
])
def test_an_edit_runs_only_the_commands_it_added(before, after, added):
    assert [c.text for c in added_commands(after, before)] == added


# Issue 12: a command is what GitHub shows. Each row was run as a command before (the old parser split
# lines with `str.splitlines()` and knew only fences, `>` and a comment opened at a line's start).
@pytest.mark.parametrize("body", [
    "how far is it? \u2028/session stop all",  # GitHub ends lines at \n and \r only
    "how far is it? \u2029/session stop all",
    "how far is it? \x85/session stop all",
    "how far is it? \v/session stop all",
    "how far is it? \f/session stop all",
    "    /session stop",  # an indented code block
    "Logs:\n\n    $ make\n    /session stop",
    "<pre>\n/session stop\n</pre>",  # an HTML block: shown as preformatted text, not a paragraph
    "> quote\n/session stop",  # a lazy continuation line belongs to the quote
    "> quote\n> more\n/session stop all",
    "- item\n/session stop",  # …and to a list item
    "see <!-- hidden\n/session stop\n-->",  # an HTML comment opened mid-line hides the lines after
    "see <!-- hidden --> and <!-- this too\n/session stop\n-->\n",
    "see `code\n/session stop` here",  # a code span across a line break
    "![screenshot\n/session stop](https://example.com/a.png)",  # an image's description is not shown
    "<details>\n<summary>Old log</summary>\n/session stop\n</details>",  # raw HTML inside <details>
])
def test_what_github_does_not_show_as_a_paragraph_line_is_not_a_command(body):
    assert find_commands(body) == []


def test_a_quoted_reply_with_a_line_separator_runs_only_the_repliers_command():
    """The reproduction: a reader's text, quote-replied by a maintainer who added a command."""
    body = "> how far is it? \u2028/session stop all\n\n/session list"

    assert [c.text for c in find_commands(body)] == ["/session list"]


@pytest.mark.parametrize("body, commands", [
    # A paragraph inside <details>, set apart by blank lines, is rendered as markdown and shown once
    # the fold is opened: it is a command. Text within the raw HTML (no blank line) is not.
    ("<details>\n<summary>Commands</summary>\n\n/session stop 1\n\n</details>", ["/session stop 1"]),
    ("<details open>\n\n/session list\n/session log 2\n\n</details>\n/session help",  # after </details>: HTML too
     ["/session list", "/session log 2"]),
    ("<details>\n<summary>Commands</summary>\n/session stop 1\n</details>\n\n/session list", ["/session list"]),
    ("<details><summary>/session stop</summary>\n\n/session list\n\n</details>", ["/session list"]),
])
def test_details_count_as_github_renders_them(body, commands):
    assert [c.text for c in find_commands(body)] == commands


@pytest.mark.parametrize("body, commands", [
    ("see <!-- a -->\n/session list", ["/session list"]),  # the comment closed on its own line
    ("*stop it*\n/session stop", ["/session stop"]),
    ("**Please**  \n/session log", ["/session log"]),  # after a hard line break
    ("text\\\n/session log", ["/session log"]),
    ("\ue000/session list", []),  # private-use characters cannot forge find_commands' marker
    ("/session list \ue0001\ue001\n\ue0000\ue001", ["/session list \ue0001\ue001"]),
])
def test_what_github_shows_at_the_start_of_a_paragraph_line_is_a_command(body, commands):
    assert [c.text for c in find_commands(body)] == commands
