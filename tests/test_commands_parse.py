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
])
def test_an_edit_runs_only_the_commands_it_added(before, after, added):
    assert [c.text for c in added_commands(after, before)] == added
