"""The agent-log parser: timestamps and noise skipped, malformed lines counted, each tool call once."""

import io

from bot.logs import reader as p
from bot.logs.reader import read_events
from tests.agentlogs import WORKDIR, AgentLog, session


def events(log: AgentLog) -> list:
    return list(read_events(log.stream()))


def of(kind, items: list) -> list:
    return [e for e in items if isinstance(e, kind)]


def test_a_tool_call_repeated_when_it_finishes_is_one_call_and_one_result():
    log = AgentLog()
    log.bash("ls", "README.md")
    found = events(log)

    assert of(p.ToolCall, found) == [p.ToolCall("toolu_000001", "bash", {
        "description": "Run a command", "sessionId": "main", "async": False, "command": "ls"})]
    [result] = of(p.ToolResult, found)
    assert result.content == "README.md\n<exited with exit code 0>"
    assert found[-1].duplicates == 1


def test_a_call_seen_only_once_with_its_output_is_still_a_call_and_a_result():
    log = AgentLog()
    log.setup("Start 'playwright' MCP server", "started")
    found = events(log)
    assert [type(e) for e in found] == [p.ToolCall, p.ToolResult, p.Stats]


def test_parallel_calls_in_one_request_each_count_once():
    log = AgentLog()
    log.tools([("view", {"path": f"{WORKDIR}/a.py"}, "a"), ("view", {"path": f"{WORKDIR}/b.py"}, "b")],
              say="Let me look at both files.")
    found = events(log)
    assert [c.arguments["path"] for c in of(p.ToolCall, found)] == [f"{WORKDIR}/a.py", f"{WORKDIR}/b.py"]
    assert {r.content for r in of(p.ToolResult, found)} == {"a", "b"}
    assert of(p.Message, found) == [p.Message("Let me look at both files.", "tool_calls")]


def test_timestamps_are_optional_and_noise_lines_are_counted_not_parsed():
    for timestamps in (True, False):
        log = AgentLog(timestamps=timestamps)
        log.noise()
        log.final("Done.")
        found = events(log)
        assert of(p.Message, found) == [p.Message("Done.", "stop")]
        assert found[-1].noise == 4 and found[-1].malformed == 0


def test_malformed_lines_are_counted_and_the_stream_goes_on():
    log = AgentLog()
    log.malformed()
    log.line('data: {"object": "something.else"}')
    log.line("data: [DONE]")
    log.line("data: ")
    log.final("Still here.")
    found = events(log)
    assert of(p.Message, found) == [p.Message("Still here.", "stop")]
    assert found[-1].malformed == 4


def test_bad_arguments_become_an_empty_dict_and_nameless_calls_are_ignored():
    log = AgentLog()
    log.chunk([{"delta": {"role": "assistant", "tool_calls": [
        {"id": "a", "function": {"name": "view", "arguments": "{bad json"}},
        {"id": "b", "function": {"name": "", "arguments": "{}"}},
        {"function": {"name": "think", "arguments": "[1, 2]"}}]}, "finish_reason": "tool_calls"}])
    calls = of(p.ToolCall, events(log))
    assert [(c.name, c.arguments) for c in calls] == [("view", {}), ("think", {})]


def test_the_pr_title_chunk_is_not_a_message():
    log = AgentLog()
    log.final("All done.")
    log.pr_title("Fix the parser", "Body text.")
    found = events(log)
    assert of(p.Message, found) == [p.Message("All done.", "stop")]
    assert of(p.PullRequestText, found) == [p.PullRequestText("Fix the parser", "Body text.")]


def test_usage_and_model_changes_are_reported():
    log = AgentLog(model="gpt-5")
    log.tool("think", "ok", thought="hm")
    log.model = "claude-sonnet-4"
    log.final("Done.")
    found = events(log)
    assert [m.name for m in of(p.Model, found)] == ["gpt-5", "claude-sonnet-4"]
    assert [u.prompt_tokens for u in of(p.Usage, found)] == [18400, 18800]
    assert of(p.Usage, found)[0].cached_tokens == 17900


def test_unusual_finish_reasons_and_error_objects_are_events():
    log = AgentLog()
    log.chunk([{"delta": {"role": "assistant", "content": "Trunc"}, "finish_reason": "length"}])
    log.line('data: {"error": {"message": "upstream model timed out"}}')
    found = events(log)
    assert p.Finish("length") in found
    assert p.Failure("upstream model timed out") in found


def test_text_streams_and_byte_order_marks_are_accepted():
    log = AgentLog()
    log.final("Done.")
    text = "\ufeff" + log.text()
    assert of(p.Message, list(read_events(io.StringIO(text)))) == [p.Message("Done.", "stop")]


def test_an_oversized_line_is_skipped_without_being_held(monkeypatch):
    monkeypatch.setattr(p, "MAX_LINE", 1024)
    log = AgentLog()
    log.bash("cat big.log", "x" * 5000)
    log.final("Done.")
    found = events(log)
    assert of(p.Message, found) == [p.Message("Done.", "stop")]
    assert found[-1].oversized == 1


def test_a_long_session_counts_every_call_once():
    log = AgentLog()
    session(log, turns=5)
    found = events(log)
    calls = of(p.ToolCall, found)
    assert len(calls) == len({c.id for c in calls})
    assert found[-1].duplicates == len(calls) - 2  # the two run_setup calls appear only once
    assert {c.name for c in calls} >= {
        "bash", "str_replace_editor", "view", "create", "str_replace", "think", "report_progress", "run_setup",
        "read_bash", "write_bash", "stop_bash", "async_bash", "github-mcp-server-get_file_contents",
        "playwright-browser_navigate", "codeql_checker"}
