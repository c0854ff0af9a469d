"""Realistic Copilot agent logs for tests: hand-written scenarios, logs of any size, and run-log archives."""

from __future__ import annotations

import io
import itertools
import json
import random
import zipfile
from datetime import datetime, timedelta, timezone
from typing import IO

REPO = "octo-org/hello"
WORKDIR = "/home/runner/work/hello/hello"
MODEL = "claude-sonnet-4"


class AgentLog:
    """Writes an agent's step log the way Actions stores it: timestamped `data: {chunk}` lines.

    Each tool call appears twice, as in real logs: when the model makes it, and again with the same
    id and its output when it finishes. Write to `sink` (a binary file) or read `text()` afterwards.
    """

    def __init__(self, sink: IO[bytes] | None = None, *, model: str = MODEL, timestamps: bool = True):
        self.sink = sink if sink is not None else io.BytesIO()
        self.model = model
        self.timestamps = timestamps
        self.clock = datetime(2025, 9, 9, 10, 16, tzinfo=timezone.utc)
        self.ids = itertools.count(1)
        self.prompt_tokens = 18000

    # -- raw lines --------------------------------------------------------------------------------

    def line(self, text: str) -> None:
        """Any line, timestamped like the rest (setup noise, runner messages)."""
        self.clock += timedelta(milliseconds=137)
        stamp = self.clock.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z " if self.timestamps else ""
        self.sink.write(f"{stamp}{text}\n".encode())

    def chunk(self, choices: list[dict], *, usage: bool = False, model: str | None = None) -> None:
        """One `data:` line holding a chat.completion.chunk."""
        body = {"choices": choices, "created": 1757413049 + next(self.ids), "id": f"chatcmpl-{next(self.ids)}",
                "model": self.model if model is None else model, "object": "chat.completion.chunk"}
        if usage:
            self.prompt_tokens += 400
            body["usage"] = {"completion_tokens": 200, "prompt_tokens": self.prompt_tokens,
                             "prompt_tokens_details": {"cached_tokens": self.prompt_tokens - 500},
                             "total_tokens": self.prompt_tokens + 200}
        self.line("data: " + json.dumps(body, separators=(",", ":")))

    def malformed(self) -> None:
        """A `data:` line cut short, as a runner killed mid-write leaves one."""
        self.line('data: {"choices":[{"delta":{"content":"half a chunk')

    def noise(self) -> None:
        """Setup chatter of the kinds seen around the agent's lines."""
        for text in ("##[group]Run copilot", "Starting Copilot agent...", "##[endgroup]",
                     "[debug] model request took 2.3s"):
            self.line(text)

    # -- what the agent does ------------------------------------------------------------------------

    def setup(self, name: str, output: str = "done") -> None:
        """A run_setup step: it appears once, already finished."""
        call_id = f"setup-{next(self.ids)}"
        self.chunk([{"delta": {"content": output, "role": "assistant", "tool_calls": [
            _call(call_id, "run_setup", {"name": name})]}, "finish_reason": "tool_calls", "index": 0}], model="")

    def tool(self, name: str, output: str = "", *, say: str = "", repeat: bool = True, **arguments) -> str:
        """The model calls `name(**arguments)`; it finishes with `output`. Returns the call id."""
        return self.tools([(name, arguments, output)], say=say, repeat=repeat)[0]

    def tools(self, calls: list[tuple[str, dict | str, str]], *, say: str = "", repeat: bool = True) -> list[str]:
        """One model request making several calls (with optional narration), then each one finishing.
        Each call's arguments are a dict, or a string sent as it is (see `_call`)."""
        ids = [f"toolu_{next(self.ids):06d}" for _ in calls]
        choices = [{"delta": {"role": "assistant", "content": say}, "finish_reason": "tool_calls"}] if say else []
        choices += [{"delta": {"role": "assistant", "tool_calls": [_call(i, name, args)]}, "finish_reason": "tool_calls"}
                    for i, (name, args, _) in zip(ids, calls)]
        self.chunk(choices, usage=True)
        for call_id, (name, args, output) in reversed(list(zip(ids, calls))):  # they finish in any order
            if repeat:
                self.chunk([{"finish_reason": "tool_calls",
                             "delta": {"tool_calls": [_call(call_id, name, args)], "content": output}}])
        return ids

    def bash(self, command: str, output: str = "", exit_code: int = 0, **extra) -> str:
        """A bash call whose output ends as the agent's shell reports it."""
        return self.tool("bash", f"{output}\n<exited with exit code {exit_code}>", command=command,
                         **{"description": "Run a command", "sessionId": "main", "async": False, **extra})

    def final(self, text: str) -> None:
        """The agent's closing message."""
        self.chunk([{"delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}], usage=True)

    def pr_title(self, title: str, description: str) -> None:
        """The separate chunk that follows the final message with the PR's title and body."""
        self.chunk([{"delta": {"role": "assistant",
                               "content": f"<pr_title>\n{title}\n</pr_title>\n\n<pr_description>\n{description}\n"
                                          "</pr_description>"}, "finish_reason": "stop"}], usage=True)

    def text(self) -> str:
        """Everything written so far (only when writing to memory)."""
        return self.sink.getvalue().decode()

    def stream(self) -> io.BytesIO:
        """What was written, as a file to parse."""
        return io.BytesIO(self.sink.getvalue())


def _call(call_id: str, name: str, arguments: dict | str) -> dict:
    """A tool call; `arguments` as a string is sent as it is (cut short, not JSON…), as the model wrote it."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"function": {"arguments": raw, "name": name}, "id": call_id, "type": "function", "index": 0}


def session(log: AgentLog, *, rng: random.Random | None = None, turns: int = 1) -> None:
    """A whole session using every tool seen in real logs, with `turns` rounds of work."""
    rng = rng or random.Random(0)
    opening(log)
    for n in range(turns):
        turn(log, rng, n)
    ending(log)


def opening(log: AgentLog) -> None:
    """Setup noise, MCP servers starting, a first look, a thought and the plan."""
    log.noise()
    log.setup("Start 'github-mcp-server' MCP server", "MCP server started successfully with 39 tools")
    log.setup("Start 'playwright' MCP server", "MCP server started successfully with 21 tools")
    log.tool("view", " .git\n .github\n README.md\n src\n tests", path=WORKDIR,
             say="I'll start by exploring the repository structure.")
    log.tool("think", "Plan: read the parser, fix it, add a test.", thought="Plan: read the parser, fix it, add a test.")
    log.tool("report_progress", "Progress reported successfully.", commitMessage="Initial plan",
             prDescription="- [ ] Fix the parser\n- [ ] Add a test")


def turn(log: AgentLog, rng: random.Random, n: int) -> None:
    """One round of work: read, edit, create, test (failing every third round), MCP tools, and noise."""
    r = rng.randrange(1000)
    if n % 50 == 7:
        log.malformed()
    if n % 20 == 3:
        log.noise()
    log.tools([("str_replace_editor", {"command": "view", "path": f"{WORKDIR}/src/parser.py"},
                f"diff --git a/src/parser.py b/src/parser.py\n@@ -1,40 +1,40 @@\n{_code(rng, 40)}"),
               ("view", {"path": f"{WORKDIR}/tests/test_parser.py", "view_range": [1, 30]}, _code(rng, 30))],
              say="Let me look at the parser and its tests.")
    log.tool("str_replace_editor", "The file has been edited.", command="str_replace",
             path=f"{WORKDIR}/src/parser.py", old_str="return None", new_str=f"return {r}")
    log.tool("str_replace", "File edited.", path=f"{WORKDIR}/src/util_{r % 7}.py", old_str="a", new_str="b")
    log.tool("create", "Created file.", path=f"{WORKDIR}/tests/test_case_{n}.py",
             file_text=f"def test_{r}():\n    assert True\n")
    log.tool("str_replace_editor", "File created.", command="create", path=f"{WORKDIR}/docs/note_{r % 5}.md",
             file_text="notes\n")
    failing = n % 3 == 0
    log.bash(f"cd {WORKDIR} && python -m pytest -q tests/ 2>&1 | tail -20",
             _pytest_output(rng, failing), exit_code=1 if failing else 0, description="Run the tests")
    log.bash(f"cd {WORKDIR} && npm test", "> hello@1.0.0 test\n> jest\n\nTests: 12 passed, 12 total")
    log.bash(f"cd {WORKDIR} && git --no-pager diff --stat", f" src/parser.py | {r % 9 + 1} +-\n")
    log.tool("async_bash", "<command started in background>", command="npm run dev", sessionId="dev")
    log.tool("write_bash", "ok", sessionId="dev", input="r\n")
    log.tool("read_bash", "ready on http://localhost:3000", sessionId="dev")
    log.tool("stop_bash", "stopped", sessionId="dev")
    log.tool("github-mcp-server-get_file_contents", '{"content": "..."}', owner="octo-org", repo="hello",
             path="README.md")
    log.tool("playwright-browser_navigate", "Navigated to http://localhost:3000", url="http://localhost:3000")
    log.tool("codeql_checker", "<info>Analysis completed successfully.</info>")
    if n % 10 == 0:
        log.tool("report_progress", "Progress reported successfully.", commitMessage=f"Fix parser, step {n}",
                 prDescription="- [x] Fix the parser\n- [ ] Add a test")


def ending(log: AgentLog) -> None:
    """The final message, then the separate PR-title chunk, then the runner's last word."""
    log.final("I fixed the parser and added tests.\n\n## Summary\n- Fixed `parse()`\n- Added tests")
    log.pr_title("Fix the parser", "Fixes the parser and adds tests.")
    log.line("Completed agent run.")


def write_agent_log(sink: IO[bytes], size: int, *, seed: int = 0) -> int:
    """Write a whole session of at least `size` bytes to `sink`; returns the bytes written."""
    counting = _Counting(sink)
    log, rng, n = AgentLog(counting), random.Random(seed), 0
    opening(log)
    while counting.written < size:
        turn(log, rng, n)
        n += 1
    ending(log)
    return counting.written


class _Counting:
    def __init__(self, sink: IO[bytes]):
        self.sink, self.written = sink, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.sink.write(data)


def _code(rng: random.Random, lines: int) -> str:
    return "\n".join(f"    value_{rng.randrange(10**6)} = compute({i}, limit={rng.randrange(100)})"
                     for i in range(lines))


def _pytest_output(rng: random.Random, failing: bool) -> str:
    passed = rng.randrange(20, 200)
    if failing:
        return ("..F.....\n=========== FAILURES ===========\n___ test_parse ___\n"
                "E   AssertionError: assert 1 == 2\n"
                "FAILED tests/test_parser.py::test_parse - AssertionError: assert 1 == 2\n"
                f"1 failed, {passed} passed in 0.42s")
    return f"{'.' * 40}\n{passed} passed in 0.40s"


def run_logs_zip(agent_log: bytes | IO[bytes], sink: IO[bytes] | None = None, *, job: str = "copilot",
                 agent_member: str | None = "Processing Request.txt") -> bytes | None:
    """A run's log archive as GitHub builds it: the job's whole log, and a folder of step files.

    `agent_log` (bytes or a binary file) becomes the step `… Processing Request.txt`; pass
    `agent_member=None` for an archive without one. Returns the bytes unless `sink` is given.
    """
    out = sink if sink is not None else io.BytesIO()
    source = io.BytesIO(agent_log) if isinstance(agent_log, bytes) else agent_log
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        setup = b"2025-09-09T10:16:00.0000000Z Current runner version: '2.328.0'\n"
        archive.writestr(f"{job}/1_Set up job.txt", setup)
        archive.writestr(f"{job}/2_Prepare Copilot.txt", b"2025-09-09T10:16:01.0000000Z Preparing...\n")
        if agent_member:
            with archive.open(f"{job}/3_{agent_member}", "w") as member:
                source.seek(0)
                while block := source.read(1 << 20):
                    member.write(block)
        archive.writestr(f"{job}/4_Complete job.txt", b"2025-09-09T10:40:00.0000000Z Cleaning up orphan processes\n")
        with archive.open(f"0_{job}.txt", "w") as whole:  # the job's whole log, agent lines included
            whole.write(setup)
            source.seek(0)
            while block := source.read(1 << 20):
                whole.write(block)
    return None if sink is not None else out.getvalue()
