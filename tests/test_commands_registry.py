"""The command grammar, written down as a table; the help, hint and replies the declarations generate;
and a command added from a test module, picked up everywhere without touching another file."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.commands import registry
from bot.commands.arguments import Arguments, Reason, Session, SessionChoice
from bot.commands.invoke import Invocation, answer
from bot.commands.policies import WRITERS, Asker
from bot.commands.registry import Invalid, command, commands, help_table, hint, interpret, not_understood
from bot.handlers.status_comment import status_body
from bot.repo_config import RepoConfig
from bot.sessions.model import RUNNING


def log(number=None, full=False):
    return "log", {"session": SessionChoice(number), "full": full}


def stop(number=None, every=False, reason=""):
    return "stop", {"session": SessionChoice(number, every), "reason": reason}


GRAMMAR = [
    # line                              parsed
    ("/session help",                   ("help", {})),
    ("/session",                        ("help", {})),
    ("/SESSION Help",                   ("help", {})),
    ("/session list",                   ("list", {})),
    ("/session status",                 ("list", {})),
    ("/session log",                    log()),
    ("/session log latest",             log()),
    ("/session log 2",                  log(2)),
    ("/session log #2",                 log(2)),
    ("/session log --full",             log(full=True)),
    ("/session log 3 --full",           log(3, full=True)),
    ("/session log --full 3",           log(3, full=True)),
    ("/session stop",                   stop()),
    ("/session stop 1",                 stop(1)),
    ("/session stop all",               stop(every=True)),
    ("/session stop ALL",               stop(every=True)),
    # A session takes its word first, the reason the rest, as typed.
    ("/session stop 2 wrong direction", stop(2, reason="wrong direction")),
    ("/session stop #2  Wrong   Way",   stop(2, reason="Wrong Way")),
    ("/session stop wrong direction",   stop(reason="wrong direction")),
    ("/session stop all no longer needed", stop(every=True, reason="no longer needed")),
    ("/session stop 1 now",             stop(1, reason="now")),
    ("/session stop latest",            stop(reason="latest")),  # not a word of stop's: the reason
    ("/session stop tests 2 and 3 fail", stop(reason="tests 2 and 3 fail")),
    ("/session log 0",                  Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session log two",                Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session log 1 2",                Invalid("`log` takes a session number or `latest`, and `--full`")),
    ("/session log \u00b2",             Invalid("`log` takes a session number or `latest`, and `--full`")),  # isdigit, not int
    # A number that names no session is a mistake, never the start of a reason (which would stop the latest).
    ("/session stop -1",                Invalid("`stop` takes a session number or `all`, and a reason")),
    ("/session stop 0 oops",            Invalid("`stop` takes a session number or `all`, and a reason")),
    ("/session stop 1000000",           Invalid("`stop` takes a session number or `all`, and a reason")),
    ("/session stop #2x wrong",         Invalid("`stop` takes a session number or `all`, and a reason")),
    ("/session start Fix  the flaky test", ("start", {"prompt": "Fix the flaky test"})),
    ("/session start",                  Invalid("`start` takes a prompt")),
    ("/session list mine",              Invalid("it takes no arguments")),
    ("/session help me",                Invalid("it takes no arguments")),
    ("/session deploy",                 Invalid("that is not a command")),
    ("/session @everyone",              Invalid("that is not a command")),
]


@pytest.mark.parametrize("line, parsed", GRAMMAR)
def test_grammar(line, parsed):
    got = interpret(line)
    assert (got if isinstance(got, Invalid) else (got.name, got.args.values)) == parsed


def test_a_configured_prefix_replaces_session():
    got = interpret("/agent stop 2")
    assert (got.name, got.args.values) == stop(2)


def test_every_command_module_is_found_without_a_list():
    """A command module that is never imported would be a command nobody can run: each registers itself."""
    folder = Path(registry.__file__).parent
    declaring = {path.stem for path in folder.glob("*.py")
                 if any(isinstance(node, ast.Call) and getattr(node.func, "id", None) == "command"
                        for node in ast.walk(ast.parse(path.read_text())))}
    registered = {spec.handle.__module__.rsplit(".", 1)[-1] for spec in commands().values()}
    assert declaring == registered == {"show_help", "list_sessions", "show_log", "start_task", "stop_sessions"}
    assert {m.name for m in pkgutil.iter_modules([str(folder)])} >= declaring


def test_the_help_and_the_hint_are_generated_with_the_repositorys_prefix():
    assert "| `/agent stop [N\\|all] [reason…]` | Stop the latest running session" in help_table("/agent")
    assert "(alias: `status`)" in help_table("/agent")
    assert hint("/agent") == ("Comment `/agent list`, `/agent log [N]`, `/agent start <prompt…>` or `/agent stop [N]` "
                              "on this pull request; `/agent help` for more.")
    assert status_body([], closed=None, now=0.0, prefix="/agent").endswith(hint("/agent"))


def test_two_commands_cannot_claim_one_word(monkeypatch):
    monkeypatch.setattr(registry, "COMMANDS", dict(commands()))
    with pytest.raises(ValueError, match="registered twice"):
        command("tally", aliases=("status",), summary="Count.")(lambda invocation, args: "")


# -- a command added the way the next issues add theirs: one module's declaration, nothing else -------------

@pytest.fixture
def throwaway(monkeypatch):
    """`nudge [N] [reason…]` (writers only, acts on running sessions) and `wave [reason…]` (writers only),
    registered for this test alone; `calls` records each time a handler ran."""
    monkeypatch.setattr(registry, "COMMANDS", dict(commands()))
    calls = []

    @command("nudge", arguments=(Session(running=True, acts_on=RUNNING), Reason()), policy=WRITERS, done="nudged",
             summary="Nudge the latest running session, or session `N`, with a reason.")
    def nudge(invocation, args) -> str:
        calls.append(("nudge", [s.number for s in args.sessions], args.reason))
        return f"nudged {args.sessions[0].number}: {args.reason}"

    @command("wave", arguments=(Reason(),), policy=WRITERS, summary="Wave.")
    def wave(invocation, args) -> str:
        calls.append(("wave", args.reason))
        return "waved"

    return calls


SESSIONS = [SimpleNamespace(number=1, state="completed", starter="monalisa"),
            SimpleNamespace(number=2, state="in_progress", starter="hubot")]


def ask(line: str, level: str, *, prefix: str = "/agent") -> str:
    invocation = Invocation(runtime=None, run=None, client=None, config=RepoConfig(prefix=prefix))
    asker = Asker("hubot", invocation.config, level=lambda: level, public=lambda: False, in_team=lambda team: False)
    return answer(interpret(line), invocation, asker=asker, numbered=lambda: SESSIONS)


def test_a_command_declares_its_arguments_including_a_free_text_reason(throwaway):
    got = interpret("/session nudge 2 it has been  quiet for an hour")
    assert (got.name, got.args.values) == ("nudge", {"session": SessionChoice(2), "reason": "it has been quiet for an hour"})
    assert interpret("/session nudge").args.values == {"session": SessionChoice(), "reason": ""}
    assert interpret("/session nudge please").args.values == {"session": SessionChoice(), "reason": "please"}


def test_a_new_command_is_in_the_help_the_unknown_command_reply_and_the_status_hint(throwaway):
    row = "| `/agent nudge [N] [reason…]` | Nudge the latest running session, or session `N`, with a reason. " \
          "| people with write access |"
    assert row in help_table("/agent")
    assert row in not_understood(interpret("/agent deploy"), "/agent")
    assert row in commands()["help"].handle(SimpleNamespace(prefix="/agent"), Arguments())
    assert hint("/agent") == ("Comment `/agent list`, `/agent log [N]`, `/agent nudge [N]`, `/agent start <prompt…>`, "
                              "`/agent stop [N]` or `/agent wave` on this pull request; `/agent help` for more.")


def test_a_new_commands_policy_runs_before_its_handler(throwaway):
    assert ask("/agent nudge 2 hurry up", "write") == "nudged 2: hurry up"
    assert ask("/agent nudge 2 hurry up", "read") == \
        "nudge:\n- not nudged: session 2. Only people with write access may nudge a session."
    assert ask("/agent wave hello", "triage") == "Only people with write access may use `/agent wave`."
    assert ask("/agent wave hello", "admin") == "waved"
    assert throwaway == [("nudge", [2], "hurry up"), ("wave", "hello")]


def test_which_session_a_new_command_means_is_answered_before_it_runs(throwaway):
    assert ask("/agent nudge 7", "write") == "there is no session 7 on this pull request."
    assert ask("/agent nudge 1", "read") == "nudged 1: "  # finished: not one it acts on, so not guarded
    assert throwaway == [("nudge", [1], "")]
