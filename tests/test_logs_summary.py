"""Summaries of agent logs: what each tool contributes, tests and failures, the final message, bounds."""

import pytest

from bot.logs.reader import read_events
from bot.logs.shell import is_test
from bot.logs.summary import Summary, summarise
from tests.agentlogs import WORKDIR, AgentLog, session

GHP = "ghp_" + "Z9y8X7w6V5" * 4


def summary_of(log: AgentLog) -> Summary:
    return summarise(read_events(log.stream()))


def test_file_tools_are_sorted_into_read_created_and_edited_with_repository_paths():
    log = AgentLog()
    log.tool("str_replace_editor", "content", command="view", path=f"{WORKDIR}/src/app.py")
    log.tool("view", "content", path=f"{WORKDIR}/src/app.py", view_range=[1, 5])
    log.tool("view", "listing", path=WORKDIR)  # the repository itself: looking around, not a file
    log.tool("str_replace_editor", "edited", command="str_replace", path=f"{WORKDIR}/src/app.py",
             old_str="a", new_str="b")
    log.tool("str_replace", "edited", path=f"{WORKDIR}/src/app.py", old_str="b", new_str="c")
    log.tool("create", "created", path=f"{WORKDIR}/tests/test_app.py", file_text="")
    log.tool("str_replace_editor", "created", command="create", path="/tmp/scratch.txt", file_text="")
    s = summary_of(log)

    assert (s.reads, s.edits, s.creates) == (3, 2, 2)
    files = {f.path: (f.reads, f.edits, f.created) for f in s.files}
    assert files == {"src/app.py": (2, 2, False), "tests/test_app.py": (0, 0, True),
                     "/tmp/scratch.txt": (0, 0, True)}


def test_commands_record_exit_codes_without_the_workspace_cd():
    log = AgentLog()
    log.bash(f"cd {WORKDIR} && ls -la", "total 0")
    log.bash("make lint", "lint.py:3: E501", exit_code=2)
    log.tool("async_bash", "<started>", command="npm run dev", sessionId="dev")
    s = summary_of(log)

    assert [(c.command, c.exit_code, c.failed) for c in s.commands.head] == [
        ("ls -la", 0, False), ("make lint", 2, True), ("npm run dev", None, False)]
    [failure] = s.failures.head
    assert failure.excerpt == "lint.py:3: E501"


def test_test_runs_are_recognised_and_their_failures_highlighted():
    log = AgentLog()
    log.bash("python -m pytest -q", "..F\nFAILED tests/test_a.py::test_x - assert 1 == 2\n1 failed, 2 passed in 0.1s",
             exit_code=1)
    log.bash("npm test", "Tests: 3 passed, 3 total")
    # An async session's output carries no exit code: "FAIL" says it.
    log.tool("bash", "--- FAIL: TestX (0.00s)\nFAIL\tpkg\t0.01s", command="go test ./...", sessionId="go", **{"async": True})
    s = summary_of(log)

    assert s.tests.total == 3
    assert [c.failed for c in s.tests.head] == [True, False, True]
    assert s.tests.head[0].excerpt == "FAILED tests/test_a.py::test_x - assert 1 == 2\n1 failed, 2 passed in 0.1s"
    assert s.failures.total == 2


@pytest.mark.parametrize("command, test", [
    ("pytest -q", True),
    ("cd /x && python3 -m pytest tests/ 2>&1 | tail -20", True),
    ("CI=1 npm test", True),
    ("npm run test:unit", True),
    ("yarn test --watch=false", True),
    ("go test ./...", True),
    ("cargo test --all", True),
    ("uv run pytest", True),
    ("./node_modules/.bin/jest --ci", True),
    ("pip install pytest", False),
    ("cat jest.config.js", False),
    ("git log --oneline", False),
])
def test_which_commands_are_test_runs(command, test):
    assert is_test(command) is test


def test_progress_reports_keep_their_order_and_the_latest_description():
    log = AgentLog()
    for n, message in enumerate(["Initial plan", "Add parser", "Add tests"]):
        log.tool("report_progress", "Progress reported successfully.", commitMessage=message,
                 prDescription=f"- [x] step {n}")
    s = summary_of(log)
    assert s.progress.head + s.progress.tail == ["Initial plan", "Add parser", "Add tests"]
    assert s.pr_description == "- [x] step 2"


def test_the_final_message_is_the_last_stop_not_the_pr_title_chunk():
    log = AgentLog()
    log.tool("think", "ok", say="Let me think.", thought="hm")
    log.final("Done: the parser is fixed.")
    log.pr_title("Fix the parser", "Body")
    s = summary_of(log)
    assert (s.final_message, s.finished, s.pr_title) == ("Done: the parser is fixed.", True, "Fix the parser")


def test_a_session_that_never_finished_keeps_its_last_words():
    log = AgentLog()
    log.tool("think", "ok", say="Now running the slow tests.", thought="hm")
    s = summary_of(log)
    assert (s.final_message, s.finished) == ("Now running the slow tests.", False)


def test_usage_adds_up_over_requests():
    log = AgentLog()
    log.tool("think", "ok", thought="a")
    log.final("Done.")
    s = summary_of(log)
    assert (s.requests, s.prompt_tokens, s.completion_tokens, s.models) == (2, 18400 + 18800, 400,
                                                                             ["claude-sonnet-4"])


def test_tools_are_counted_by_name_unknown_ones_included():
    log = AgentLog()
    log.tool("codeql_checker", "<info>ok</info>")
    log.tool("github-mcp-server-get_issue", "{}", owner="o", repo="r", issue_number=1)
    log.tool("playwright-browser_click", "clicked", element="button")
    log.tool("playwright-browser_click", "clicked", element="link")
    s = summary_of(log)
    assert s.tools == {"playwright-browser_click": 2, "codeql_checker": 1, "github-mcp-server-get_issue": 1}


def test_tool_errors_and_early_stops_are_errors():
    log = AgentLog()
    log.tool("str_replace", "No replacement was performed, old_str did not appear verbatim.",
             path=f"{WORKDIR}/a.py", old_str="x", new_str="y")
    log.chunk([{"delta": {"role": "assistant", "content": "Trunc"}, "finish_reason": "length"}])
    log.line('data: {"error": {"message": "model overloaded"}}')
    s = summary_of(log)
    assert s.errors.head == ["str_replace: No replacement was performed, old_str did not appear verbatim.",
                             "The model stopped early: length", "model overloaded"]


def test_secrets_are_redacted_in_everything_the_summary_keeps():
    log = AgentLog()
    log.bash(f"curl -H 'Authorization: token {GHP}' https://api.github.com", f"echo {GHP}\nboom", exit_code=1)
    log.tool("report_progress", "ok", commitMessage=f"Use {GHP}", prDescription=f"token {GHP}")
    log.final(f"I used {GHP} to push.")
    s = summary_of(log)
    assert GHP not in repr(s.to_dict())
    assert GHP[:12] not in repr(s.to_dict())


def test_a_secret_cut_by_the_excerpt_window_leaves_no_fragment():
    log = AgentLog()
    # The excerpt keeps the output's end; the token straddles where its window starts.
    log.bash("make", f"{'x' * 3990} {GHP} " + "y" * 4000, exit_code=2)
    s = summary_of(log)
    assert GHP[-10:] not in s.failures.head[0].excerpt


def test_bounds_hold_however_long_the_session():
    log = AgentLog()
    session(log, turns=60)
    s = summary_of(log)
    assert s.commands.total == 60 * 4
    assert len(s.commands.head) + len(s.commands.tail) == 40
    assert s.commands.omitted == 200
    assert s.tests.total == 120 and s.failures.total == 20
    assert len(s.tests.head) + len(s.tests.tail) == 20
    assert s.progress.total == 1 + 6


def test_a_summary_survives_storage():
    log = AgentLog()
    session(log, turns=3)
    s = summary_of(log)
    assert Summary.from_dict(s.to_dict()) == s
