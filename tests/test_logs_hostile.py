"""The summariser on hostile logs: any lines and any tool arguments, never a crash, never a file that is
not the repository's listed as one, and costs bounded by what it keeps, not by what it is given."""

from __future__ import annotations

import io
import json
import posixpath
import time

from hypothesis import example, given, strategies as st

from bot.logs.reader import read_events
from bot.logs.render import MAX_CHARS, size, summary_markdown
from bot.logs.summary import MAX_FILES, Summary, summarise
from tests.agentlogs import WORKDIR, AgentLog

STALL = 5.0  # seconds: linear work on these inputs takes milliseconds; the margin is for a busy machine
ACTIONS = {"view": "read", "create": "create", "str_replace": "edit", "insert": "edit", "undo_edit": "edit",
           "edit": "edit"}

# Paths built from the pieces that confuse a path's reading: the runner's folders, `..`, `.`, empty
# segments, the checkout's own name, spaces. No letters a secret is made of, so redaction leaves them be.
SEGMENT = st.one_of(st.sampled_from(["hello", "_temp", "..", ".", "", "src", "a.py", "work", "runner", " "]),
                    st.text(alphabet="xyz._- ", max_size=6))
PATH = st.one_of(
    st.lists(SEGMENT, max_size=7).map(lambda parts: "/".join(["/home/runner/work", *parts])),
    st.lists(SEGMENT, max_size=5).map(lambda parts: "/".join([WORKDIR, *parts])),
    st.lists(SEGMENT, max_size=5).map("/".join),
)
COMMAND = st.sampled_from(["view", "create", "str_replace", "insert", "undo_edit", "edit", "delete", ""])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
ARGUMENTS = st.one_of(
    st.fixed_dictionaries({"path": PATH}, optional={"command": COMMAND, "file_text": st.text(max_size=8)}).map(json.dumps),
    st.tuples(PATH, st.integers(0, 40)).map(lambda cut: json.dumps({"path": cut[0]})[:cut[1]]),  # cut short
    st.fixed_dictionaries({"path": JSON, "command": JSON}).map(json.dumps),
    JSON.map(json.dumps),
    st.text(max_size=40),
)
TOOL = st.sampled_from(["view", "create", "str_replace", "str_replace_editor", "bash", "report_progress", "think",
                        "run_setup", "mystery"])


def _names_a_file(tool: str, arguments: str) -> str | None:
    """What a call does to a file by the rule the summary follows: its arguments parse, name a path, and
    (for str_replace_editor) a command that reads or writes one."""
    try:
        args = json.loads(arguments)
    except ValueError:
        return None
    if not isinstance(args, dict) or not isinstance(args.get("path"), str) or not args["path"]:
        return None
    if tool == "str_replace_editor":
        tool = args.get("command") if isinstance(args.get("command"), str) else ""
    return ACTIONS.get(tool)


@given(st.lists(st.tuples(TOOL, ARGUMENTS, st.text(max_size=20)), max_size=12))
@example([("create", '{"path": "/abs/path/file.txt"', ""), ("create", '{"path": "/home/runner/work/hello/hello/new.txt"}', "")])
@example([("view", '{"path": "/home/runner/work/hello"}', ""), ("view", '{"path": "/home/runner/work/_temp/a/b.txt"}', "")])
def test_file_counts_follow_the_arguments_and_only_the_checkouts_files_are_the_repositorys(calls):
    log = AgentLog()
    for tool, arguments, output in calls:
        log.tools([(tool, arguments, output)])
    s = summarise(read_events(log.stream()))

    done = [_names_a_file(tool, arguments) for tool, arguments, _ in calls]
    assert (s.reads, s.edits, s.creates) == (done.count("read"), done.count("edit"), done.count("create"))
    given_paths = [posixpath.normpath(json.loads(a)["path"]) for t, a, _ in calls if _names_a_file(t, a)]
    for f in s.files:  # relative to a checkout /home/runner/work/<name>/<name> that a call named
        assert not f.path.startswith("/") and ".." not in f.path.split("/")
        assert any(p.startswith("/home/runner/work/") and p.endswith("/" + f.path) for p in given_paths), f.path
    for f in s.elsewhere:  # as given (normalised): an absolute path stays absolute
        assert f.path in given_paths
        assert not (f.path.startswith(WORKDIR + "/") or f.path == WORKDIR)


CHUNK_PART = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "id": JSON, "type": JSON, "index": JSON,
    "function": st.fixed_dictionaries({}, optional={"name": st.one_of(TOOL, JSON), "arguments": st.one_of(ARGUMENTS, JSON)})}))
CHOICE = st.fixed_dictionaries({}, optional={
    "finish_reason": st.one_of(st.sampled_from(["stop", "tool_calls", "length"]), JSON),
    "delta": st.one_of(JSON, st.fixed_dictionaries({}, optional={
        "role": st.one_of(st.just("assistant"), JSON), "content": st.one_of(st.text(max_size=30), JSON),
        "tool_calls": st.one_of(JSON, st.lists(CHUNK_PART, max_size=3))}))})
CHUNK = st.fixed_dictionaries({"object": st.just("chat.completion.chunk")}, optional={
    "choices": st.one_of(JSON, st.lists(CHOICE, max_size=3)), "model": JSON, "id": JSON,
    "usage": st.one_of(JSON, st.dictionaries(st.sampled_from(["prompt_tokens", "completion_tokens",
                                                              "prompt_tokens_details"]), JSON))})
LINE = st.one_of(
    CHUNK.map(lambda c: b"data: " + json.dumps(c).encode()),
    st.tuples(CHUNK, st.integers(0, 200)).map(lambda cut: (b"data: " + json.dumps(cut[0]).encode())[:cut[1]]),
    JSON.map(lambda v: b"data: " + json.dumps(v).encode()),
    st.text(max_size=60).map(lambda text: ("data: " + text).encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),
    st.just(b"2025-09-09T10:16:00.0000000Z ").flatmap(lambda stamp: st.binary(max_size=40).map(stamp.__add__)),
)


@given(st.lists(LINE, max_size=20), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_any_lines_give_a_summary_that_stores_and_posts(lines, newline):
    s = summarise(read_events(io.BytesIO(newline.join(lines))))

    assert Summary.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    body = summary_markdown(s, state="completed", duration=1, run_url="https://x/run", log_url="https://x/log")
    assert size(body) <= MAX_CHARS


def test_paths_of_any_length_cost_no_more_than_the_window_kept_of_them():
    log = AgentLog(timestamps=False)
    log.tool("view", "ok", path="/home/runner/work/" + "../" * 1_000_000)
    log.tool("view", "ok", path=WORKDIR + "/ a" * 1_000_000)
    log.tool("create", "ok", path="/" * 2_000_000)
    log.tools([("create", '{"path": "' + "/home/runner/work/_temp/" * 100_000, "ok")])  # cut short
    started = time.perf_counter()
    s = summarise(read_events(log.stream()))
    assert time.perf_counter() - started < STALL
    assert (s.reads, s.creates) == (2, 1)
    assert all(len(f.path) <= 300 for f in s.files + s.elsewhere)


def test_files_past_the_limit_are_counted_not_kept():
    log = AgentLog(timestamps=False)
    for n in range(MAX_FILES + 500):
        log.tool("view", "ok", path=f"/tmp/{n}.txt" if n % 2 else f"{WORKDIR}/{n}.txt")
    s = summarise(read_events(log.stream()))
    assert len(s.files) + len(s.elsewhere) == MAX_FILES
    assert s.files_omitted == 500 and s.reads == MAX_FILES + 500
