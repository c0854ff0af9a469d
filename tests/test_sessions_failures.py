"""Why sessions fail (bot/sessions/failures.py): the classifier's table of cases, on stored summaries of
realistic agent logs (tests/agentlogs.py) and of logs planted for each cause."""

from __future__ import annotations

import json
import random

import pytest

from bot.logs.reader import read_events
from bot.logs.summary import Summary, summarise
from bot.sessions import failures
from tests import agentlogs
from tests.agentlogs import WORKDIR, AgentLog

FIREWALL = ("> [!WARNING]\n> <details><summary>Firewall rules blocked me from connecting to one or more "
            "addresses</summary>\n> registry.example.com\n> </details>")


def stored(log: AgentLog) -> Summary:
    """The summary as it is kept (JSON in session_summaries) and read back: what the classifier is given."""
    return Summary.from_dict(json.loads(json.dumps(summarise(read_events(log.stream())).to_dict())))


def realistic(turns: int) -> AgentLog:
    log = AgentLog()
    agentlogs.session(log, rng=random.Random(turns), turns=turns)
    return log


def planted(*steps, final: str | None = "Done.", description: str = "- [x] Fix it") -> AgentLog:
    """The opening of a real session, then `steps` (each a function of the log), then the agent's end
    (no final message when `final` is None: the stream stopped)."""
    log = AgentLog()
    agentlogs.opening(log)
    log.tool("report_progress", "Progress reported successfully.", commitMessage="Work", prDescription=description)
    for step in steps:
        step(log)
    if final is not None:
        log.final(final)
        log.pr_title("Fix it", "Fixes it.")
    return log


def bash(command: str, output: str = "", code: int = 0):
    return lambda log: log.bash(f"cd {WORKDIR} && {command}", output, exit_code=code)


def stream_error(message: str):
    return lambda log: log.line("data: " + json.dumps({"error": {"message": message, "code": "error"}}))


def edit(log: AgentLog) -> None:
    log.tool("str_replace", "File edited.", path=f"{WORKDIR}/src/app.py", old_str="a", new_str="b")


PIP_FAILS = bash("pip install -r requirements.txt",
                 "ERROR: Could not find a version that satisfies the requirement acme-internal==2.1", 1)
PIP_WORKS = bash("pip install -r requirements.txt", "Successfully installed acme-internal-2.1")
NPM_CI_BLOCKED = bash("npm ci", "npm ERR! code ENOTFOUND\nnpm ERR! request to https://registry.npmjs.org failed", 1)
NPM_CI = bash("npm ci", "added 812 packages in 14s")
PYTEST_FAILS = bash("python -m pytest -q", "FAILED tests/test_app.py::test_it - assert 1 == 2\n1 failed, 9 passed", 1)
PYTEST_PASSES = bash("python -m pytest -q", "10 passed in 0.4s")
NO_MODULE = bash("python -m pytest -q", "E   ModuleNotFoundError: No module named 'acme_internal'\n1 error", 2)
NPM_TEST_FAILS = bash("npm test", "Tests: 2 failed, 40 passed, 42 total", 1)
BUILD_FAILS = bash("npm run build", "src/app.ts(3,5): error TS2322: Type 'string' is not assignable to 'number'.", 2)


@pytest.mark.parametrize("log, expected", [
    # Realistic sessions: tests failing along the way, passing at the end, the agent finishing.
    (realistic(1), None),
    (realistic(7), None),
    (realistic(40), None),
    # Setup: the last install failed and nothing checked afterwards passed.
    (planted(PIP_FAILS, NO_MODULE, final="I could not install acme-internal."), "setup"),
    (planted(NPM_CI_BLOCKED, edit), "setup"),
    (planted(PIP_FAILS, edit, final=None), "setup"),
    (planted(lambda log: log.setup("Install dependencies", "error: exit code 1 from `npm ci`"), edit), "setup"),
    (planted(edit, description=f"- [x] Fix it\n\n{FIREWALL}"), "setup"),
    (planted(edit, final=f"I changed the parser.\n\n{FIREWALL}"), "setup"),
    # ...unless the install worked in the end, or what it checked afterwards passed.
    (planted(PIP_FAILS, PIP_WORKS, PYTEST_PASSES), None),
    (planted(PIP_FAILS, PYTEST_PASSES), None),
    (planted(PIP_FAILS, PIP_WORKS, edit), None),
    # Tests or build failed at the end.
    (planted(NPM_CI, edit, NPM_TEST_FAILS), "tests"),
    (planted(PIP_WORKS, PYTEST_PASSES, edit, PYTEST_FAILS, final=None), "tests"),
    (planted(NPM_CI, NPM_TEST_FAILS, BUILD_FAILS), "tests"),
    (planted(PYTEST_FAILS, edit, PYTEST_PASSES), None),
    (planted(bash("npm ci && npm test", "Tests: 1 failed, 3 total", 1)), "tests"),
    # The stream's own error before the agent finished: GitHub's, or a time limit.
    (planted(NPM_CI, edit, stream_error("HTTP 503: Service Unavailable"), final=None), "github"),
    (planted(PIP_FAILS, stream_error("rate limit exceeded for the model"), final=None), "github"),
    (planted(edit, lambda log: log.chunk([{"delta": {"role": "assistant", "content": "Now I"},
                                            "finish_reason": "length"}]), final=None), "github"),
    (planted(edit, stream_error("The session timed out after 59 minutes"), final=None), "timed_out"),
    # An error the agent got past, or a tool's own failure, is not why the session ended.
    (planted(stream_error("HTTP 502"), NPM_CI, PYTEST_PASSES), None),
    (planted(lambda log: log.tool("str_replace_editor", "<error>No replacement was performed</error>",
                                  command="str_replace", path=f"{WORKDIR}/a.py", old_str="x", new_str="y"),
             final=None), None),
], ids=lambda value: value if isinstance(value, (str, type(None))) else "")
def test_what_the_stored_summary_says_went_wrong(log, expected):
    assert failures.log_cause(stored(log)) == expected


def test_the_realistic_sessions_have_failing_tests_along_the_way():
    """The realistic sessions above are not trivially clean: tests fail in them before the end."""
    summary = stored(realistic(7))
    assert summary.failures.total > 0 and any(c.test and c.failed for c in summary.tests.head)


@pytest.mark.parametrize("state, in_log, auto_stopped, expected", [
    ("completed", None, False, None),
    ("completed", "tests", False, None),  # it completed whatever the log says
    ("queued", None, False, None),
    ("in_progress", "setup", False, None),
    ("failed", None, False, "unknown"),
    ("failed", "setup", False, "setup"),
    ("failed", "tests", False, "tests"),
    ("failed", "github", False, "github"),
    ("failed", "timed_out", False, "timed_out"),
    ("timed_out", "tests", False, "timed_out"),
    ("cancelled", None, False, "cancelled"),
    ("cancelled", "github", False, "cancelled"),
    ("cancelled", None, True, "timed_out"),  # the bot stopped it for its time: auto_stop_after_minutes
])
def test_each_failure_gets_one_cause(state, in_log, auto_stopped, expected):
    assert failures.cause(state, in_log, auto_stopped=auto_stopped) == expected
    assert expected is None or expected in failures.CAUSES


@pytest.mark.parametrize("counts, has_file, expected", [
    ({}, False, None),
    ({"tests": 5}, False, None),
    ({"setup": 2, "tests": 2}, False, None),  # half is not most
    ({"setup": 3, "tests": 2}, False, "3 of 5 failed sessions died setting up or installing dependencies, and the "
                                      "repository has no .github/workflows/copilot-setup-steps.yml"),
    ({"setup": 3, "unknown": 1}, True, "though the repository has .github/workflows/copilot-setup-steps.yml"),
    ({"setup": 1}, None, "a .github/workflows/copilot-setup-steps.yml can install them"),
])
def test_the_hint_when_most_failures_die_in_setup(counts, has_file, expected):
    found = failures.hint(counts, has_file)
    if expected is None:
        assert found is None
    else:
        assert expected in found.text and found.url == failures.SETUP_STEPS_DOCS


def test_top_causes_most_first_ties_in_a_fixed_order():
    assert failures.top({"tests": 2, "setup": 2, "unknown": 5, "github": 0, "cancelled": 1}) == [
        ("unknown", 5), ("setup", 2), ("tests", 2)]
    assert failures.tally([("setup", 2), (None, 7), ("setup", 1), ("tests", 1)]) == {"setup": 3, "tests": 1}
