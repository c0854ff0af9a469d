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
    assert files == {"src/app.py": (2, 2, False), "tests/test_app.py": (0, 0, True)}
    assert [(f.path, f.created) for f in s.elsewhere] == [("/tmp/scratch.txt", True)]


# (path a file tool names, where the summary lists it: the repository's relative path, or elsewhere)
PATHS = [
    (f"{WORKDIR}/src/app.py", "src/app.py", None),
    (f"{WORKDIR}/src//app.py", "src/app.py", None),
    (f"{WORKDIR}/src/../README.md", "README.md", None),
    (f"{WORKDIR}/./docs/", "docs", None),
    (WORKDIR, None, None),  # the repository itself: a read, not a file
    (f"{WORKDIR}/", None, None),
    ("/home/runner/work/hello", None, "/home/runner/work/hello"),  # the checkout's parent
    ("/home/runner/work/hello/", None, "/home/runner/work/hello"),
    ("/home/runner/work", None, "/home/runner/work"),
    ("/home/runner/work/_temp/setup.sh", None, "/home/runner/work/_temp/setup.sh"),  # the runner's own
    ("/home/runner/work/_temp/copilot/prompt.md", None, "/home/runner/work/_temp/copilot/prompt.md"),
    ("/home/runner/work/_actions/actions/checkout/v4/dist/index.js", None,
     "/home/runner/work/_actions/actions/checkout/v4/dist/index.js"),
    ("/home/runner/work/hello/upstream/src/app.py", None, "/home/runner/work/hello/upstream/src/app.py"),  # a clone beside it
    (f"{WORKDIR}/../../_temp/notes.md", None, "/home/runner/work/_temp/notes.md"),
    (f"{WORKDIR}/../hello-copy/app.py", None, "/home/runner/work/hello/hello-copy/app.py"),
    ("/tmp/repro.py", None, "/tmp/repro.py"),
    ("/home/runner/.npmrc", None, "/home/runner/.npmrc"),
    ("/", None, "/"),
    ("src/app.py", None, "src/app.py"),  # not absolute: the tools refuse it, and it is not known to be the repository's
]


@pytest.mark.parametrize("path, repository, elsewhere", PATHS)
def test_only_paths_inside_the_checkout_are_the_repositorys_files(path, repository, elsewhere):
    log = AgentLog()
    log.tool("view", "content", path=path)
    s = summary_of(log)
    assert s.reads == 1
    assert [f.path for f in s.files] == ([repository] if repository else [])
    assert [f.path for f in s.elsewhere] == ([elsewhere] if elsewhere else [])


def test_a_file_outside_the_checkout_keeps_each_thing_done_to_it():
    log = AgentLog()
    log.tool("create", "ok", path="/home/runner/work/_temp/fix.py", file_text="x = 1\n")
    log.tool("str_replace", "ok", path="/home/runner/work/_temp/fix.py", old_str="1", new_str="2")
    log.tool("view", "x = 2", path="/home/runner/work/_temp/fix.py")
    log.tool("create", "ok", path=f"{WORKDIR}/fix.py", file_text="x = 2\n")
    s = summary_of(log)
    assert (s.reads, s.edits, s.creates) == (1, 1, 2)
    assert [(f.path, f.reads, f.edits, f.created) for f in s.files] == [("fix.py", 0, 0, True)]
    assert [(f.path, f.reads, f.edits, f.created) for f in s.elsewhere] == [
        ("/home/runner/work/_temp/fix.py", 1, 1, True)]
    assert Summary.from_dict(s.to_dict()) == s


def test_a_summary_kept_before_files_outside_the_checkout_were_apart_still_loads():
    log = AgentLog()
    log.tool("create", "ok", path=f"{WORKDIR}/fix.py", file_text="")
    kept = summary_of(log).to_dict()
    del kept["elsewhere"]
    assert Summary.from_dict(kept).elsewhere == []


# (tool, its arguments as the model wrote them): none names a path, so none reads, edits or creates a file.
NO_PATH = [
    ("create", '{"path": "/home/runner/work/hello/hello/notes.txt", "file_text": "cut sh'),  # cut short
    ("create", '{"path": "/home/runner/work/hello/hello/notes.txt"'),
    ("create", "{}"),
    ("create", '{"path": ""}'),
    ("create", '{"path": null, "file_text": ""}'),
    ("create", '{"path": ["/home/runner/work/hello/hello/notes.txt"]}'),
    ("create", '["/home/runner/work/hello/hello/notes.txt"]'),
    ("create", '"/home/runner/work/hello/hello/notes.txt"'),
    ("create", ""),
    ("view", "path=/home/runner/work/hello/hello/README.md"),
    ("view", "{'path': '/home/runner/work/hello/hello/README.md'}"),  # not JSON: single quotes
    ("str_replace", '{"path": "/home/runner/work/hello/hello/a.py", "old_str": "x", "new_str": "y"}}'),
    ("str_replace_editor", '{"command": "create", "path": "/home/runner/work/hello/hello/b.py", "file_'),
    ("str_replace_editor", '{"path": "/home/runner/work/hello/hello/b.py"}'),  # no command: the tool refuses it
    ("str_replace_editor", '{"command": "delete", "path": "/home/runner/work/hello/hello/b.py"}'),
    ("str_replace_editor", '{"command": 7, "path": "/home/runner/work/hello/hello/b.py"}'),
]


@pytest.mark.parametrize("tool, arguments", NO_PATH)
def test_a_call_whose_arguments_name_no_path_is_no_file_read_edit_or_create(tool, arguments):
    log = AgentLog()
    log.tool("create", "Created file.", path=f"{WORKDIR}/real.txt", file_text="")
    log.tools([(tool, arguments, "Created file.")])
    s = summary_of(log)
    assert (s.reads, s.edits, s.creates) == (0, 0, 1)  # "Files: 1 created", as there was
    assert [f.path for f in s.files] == ["real.txt"] and s.elsewhere == []
    assert s.tools[tool] == (2 if tool == "create" else 1)  # still a call the agent made


def test_a_call_repeated_with_its_arguments_cut_short_counts_once():
    log = AgentLog()
    [call_id] = log.tools([("create", {"path": f"{WORKDIR}/a.txt", "file_text": "a"}, "")], repeat=False)
    log.chunk([{"finish_reason": "tool_calls", "delta": {"content": "Created file.", "tool_calls": [
        {"function": {"name": "create", "arguments": '{"path": "/home/runner/work/hello/hel'}, "id": call_id,
         "type": "function", "index": 0}]}}])
    s = summary_of(log)
    assert (s.creates, [f.path for f in s.files], s.tools) == (1, ["a.txt"], {"create": 1})


def test_a_path_too_long_to_keep_is_counted_but_not_listed():
    log = AgentLog()
    log.tool("view", "content", path=f"{WORKDIR}/" + "a" * 5000)
    s = summary_of(log)
    assert (s.reads, s.files, s.elsewhere, s.files_omitted) == (1, [], [], 1)


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
