"""No outside text can stall a worker: every scanner of it (patterns, plain scanning, the summariser,
the config reader) takes milliseconds on the inputs that used to take seconds to minutes, and on
generated inputs of the same classes (tests/worstcases.py). Reproductions come first, each with
what it cost before the fix."""

from __future__ import annotations

import json
import time

import pytest

from bot.commands import show_log as log_command
from bot.commands.command_lines import find_commands
from bot.commands.registry import interpret as parse_command
from bot.logs.reader import read_events
from bot.logs.shell import is_test, outcome, tidy
from bot.logs.summary import summarise
from bot.inert import code_block, code_span, one_line, prose
from bot.redact import MARK, clipped, redact
from bot.repo_config import ConfigProblem, read_config as parse_config
from tests import worstcases
from tests.agentlogs import WORKDIR, AgentLog

# Seconds a call may take on one input before it counts as a stall: linear takes milliseconds, the
# reproductions took 6 to 491 s; the margin is for a machine busy with other work.
STALL = 5.0
# The words each scanner reacts to, from which tests/worstcases.py builds its inputs.
SECRETS = "password passwd secret token api_key access-key Bearer BEGIN PRIVATE KEY END"
MARKDOWN = "https github com issues pull GH"
LOG = SECRETS + " pr_title pr_description exited with exit code FAILED ERROR passed"


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    spent = time.perf_counter() - started
    assert spent < STALL, f"{function.__qualname__} took {spent:.1f} s"
    return result


# -- the reproductions -------------------------------------------------------------------------

@pytest.mark.parametrize("repeat", [250, 500, 5000])
def test_a_run_of_secret_labels_with_no_value_is_redacted_at_once(repeat):
    """Before: `_ASSIGNED` was cubic here; 'password' * 250 took 6 s, * 500 took 47 s."""
    assert timed(redact, "password" * repeat) == "password" * repeat
    assert timed(redact, f"x {'password' * repeat}=hunter2") == f"x {'password' * repeat}={MARK}"


@pytest.mark.parametrize("spaces", [4_000, 10_000, 100_000])
def test_a_pr_title_tag_followed_by_spaces_is_read_at_once(spaces):
    """Before: `<pr_title>\\s*(.*?)\\s*</pr_title>` took 32 s on 4,000 spaces and 491 s on 10,000."""
    log = AgentLog()
    log.chunk([{"delta": {"role": "assistant", "content": "<pr_title>" + " " * spaces}, "finish_reason": "stop"}])
    log.pr_title("Fix the parser", "Fixes it.")

    summary = timed(lambda: summarise(read_events(log.stream())))

    assert summary.pr_title == "Fix the parser"


def test_long_paths_and_titles_are_clipped_before_they_are_redacted():
    """Before: paths and the PR title reached `redact` whole; an 8.8 KB log took 49 s to summarise."""
    log = AgentLog()
    hostile = "password" * 600
    log.tool("view", "content", path=f"{WORKDIR}/{hostile}")
    log.tool("create", "created", path=f"{WORKDIR}/src/{'token.' * 800}py", file_text="")
    log.tool("report_progress", "ok", commitMessage=hostile, prDescription=hostile)
    log.pr_title(hostile, hostile)

    summary = timed(lambda: summarise(read_events(log.stream())))

    assert len(summary.pr_title) <= 300 and all(len(f.path) <= 300 for f in summary.files)


def test_a_pr_body_of_blank_lines_gives_its_checklist_at_once():
    """Before: `^\\s*[-*] …$` (multiline) was quadratic: 64k newlines took 21 s."""
    body = "\n" * 64_000 + "- [x] Fix the parser\n" + " \n" * 64_000 + "- [ ] Add a test"

    class Client:
        def paginate(self, path):
            return []

        def get(self, path):
            return {"body": body}

    session = type("Session", (), {"number": 1, "state": "in_progress", "repository": "o/r", "pr_number": 7,
                                   "started_at": time.time(), "created_at": time.time(), "finished_at": None})

    progress = timed(log_command.progress_so_far, Client(), session)

    assert "Checklist** (1/2 done)" in progress


def test_tool_arguments_nested_past_the_recursion_limit_are_ignored_not_fatal():
    """Before: `"[" * 100000` raised RecursionError, which escaped the summariser; the job retried 8 times."""
    log = AgentLog()
    log.chunk([{"delta": {"role": "assistant", "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "bash", "arguments": "[" * 100_000}}]},
        "finish_reason": "tool_calls"}])
    log.line("data: " + '{"a":' * 100_000)
    log.line("data: " + "[" * 100_000 + "]" * 100_000)
    log.final("Done.")

    summary = timed(lambda: summarise(read_events(log.stream())))

    assert summary.final_message == "Done." and summary.tools == {"bash": 1}
    assert summary.stats.malformed == 2


def test_a_config_file_nested_past_the_recursion_limit_is_explained():
    """Before: RecursionError escaped the config reader, so the command's job retried and died."""
    for text in ("[" * 10_000, "prefix: " + "{a: " * 5_000, "stop:\n" + "".join(" " * i + "- \n" for i in range(1, 400))):
        with pytest.raises(ConfigProblem):
            timed(parse_config, text)


# -- generated inputs of the same classes ------------------------------------------------------

@pytest.mark.parametrize("function, words", [
    (redact, SECRETS), (lambda text: clipped(text, 300), SECRETS), (prose, MARKDOWN), (one_line, MARKDOWN),
    (code_span, ""), (code_block, ""), (tidy, "cd home runner work"), (is_test, "pytest npm test mvn make"),
    (lambda text: outcome(text, test=True), "exited with exit code FAILED ERROR passed failures"),
    (find_commands, "session"), (parse_command, "session stop log all full"),
], ids=["redact", "clipped", "prose", "one_line", "code_span", "code_block", "tidy", "is_test", "outcome",
        "find_commands", "parse_command"])
def test_text_scanners_never_stall(function, words):
    for name, text in worstcases.inputs(words):
        started = time.perf_counter()
        function(text)
        assert time.perf_counter() - started < STALL, f"{name}"


@pytest.mark.parametrize("line", ["/session stop", "/session `", "/session <a", "/session [", "/session *", "> /session",
                                  "- /session", "/session <!--", "    /session", "/session\u2028"])
def test_a_comment_of_command_lines_is_read_at_once(line):
    """Every line a candidate: GitHub's parser (cmark-gfm) runs once over the whole comment, and the walk
    over its tree is linear too."""
    for count in (1_000, 10_000):
        timed(find_commands, (line + "\n") * count)
    timed(find_commands, "/session " + "[" * 50_000 + "\n/session " + "`" * 50_000 + "\n/session " + "*a" * 25_000)


def test_the_config_reader_never_stalls():
    for name, text in worstcases.inputs("prefix stop users", size=10_000):
        started = time.perf_counter()
        try:
            parse_config(text)
        except ConfigProblem:
            pass
        assert time.perf_counter() - started < STALL, f"{name}"


def test_the_summariser_never_stalls_whichever_field_holds_the_text():
    for name, text in worstcases.inputs(LOG, size=20_000):
        log = AgentLog()
        log.tool("view", "content", path=f"{WORKDIR}/{text}")
        log.bash(text, text, exit_code=1, description=text)
        log.bash("pytest -q", text, exit_code=1)
        log.tool("report_progress", text, commitMessage=text, prDescription=text)
        log.tool("str_replace_editor", "<error>" + text, command="create", path=text)
        log.line("data: " + json.dumps({"error": {"message": text}}))
        log.final(text)
        log.pr_title(text, text)
        started = time.perf_counter()
        summarise(read_events(log.stream()))
        assert time.perf_counter() - started < STALL, f"{name}"
