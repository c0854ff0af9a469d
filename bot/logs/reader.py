"""Stream a Copilot agent log (`data: {chat.completion.chunk}` lines) into typed events."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import IO, Iterator, Union

# A line longer than this is skipped (counted), so one runaway line cannot take the memory.
MAX_LINE = 4 << 20
# Real streams repeat a tool call with the same id when it finishes, soon after it starts;
# remembering the latest ids is enough to count each call once without growing with the log.
SEEN_IDS = 4096
# The runner's stamp before each line: 2025-01-01T00:00:00.1234567Z (its digits, as zeros, here).
_STAMP_SHAPE = b"0000-00-00T00:00:00"
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_BOM = b"\xef\xbb\xbf"
_decode = json.JSONDecoder().decode  # json.loads minus its per-call checks: this runs per line
# What decoding a line can raise: bad JSON, and JSON nested deeper than Python's recursion limit
# (`"[" * 100000` costs only 100 KB). Such a line is malformed, like any other it cannot read.
_UNPARSABLE = (ValueError, RecursionError)


@dataclass(frozen=True)
class Message:
    """Text the agent wrote; `finish_reason` "stop" marks a final answer, "tool_calls" narration."""

    text: str
    finish_reason: str | None


@dataclass(frozen=True)
class ToolCall:
    """A tool call, once per call id; `arguments` is {} when they are not a JSON object."""

    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class ToolResult:
    """A finished tool call's output (the call repeated with its content filled in); its ToolCall came first."""

    id: str
    name: str
    content: str


@dataclass(frozen=True)
class Usage:
    """Token usage of one model request."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


@dataclass(frozen=True)
class Model:
    """The model named by the chunks from here on."""

    name: str


@dataclass(frozen=True)
class PullRequestText:
    """The closing `<pr_title>`/`<pr_description>` chunk: not the agent's final message."""

    title: str
    description: str


@dataclass(frozen=True)
class Finish:
    """A choice ended for a reason other than calling tools: "stop", "length", "content_filter"…"""

    reason: str


@dataclass(frozen=True)
class Failure:
    """An error object in the stream (`data: {"error": …}`)."""

    message: str


@dataclass
class Stats:
    """What the parser read; the last event of every stream."""

    lines: int = 0
    chunks: int = 0
    noise: int = 0      # lines that are not `data:` lines (setup steps, runner messages)
    malformed: int = 0  # `data:` lines that are not JSON, or not a chunk
    oversized: int = 0  # lines over MAX_LINE, skipped
    duplicates: int = 0  # tool calls seen again under the same id


Event = Union[Message, ToolCall, ToolResult, Usage, Model, PullRequestText, Finish, Failure, Stats]


def read_events(stream: IO) -> Iterator[Event]:
    """Yield the events of an agent log read line by line from a binary or text file object."""
    stats = Stats()
    state = _State()
    for line in _lines(stream, stats):
        line = _unstamped(line[len(_BOM):] if line.startswith(_BOM) else line)
        line = line.strip()
        if not line:
            continue
        if not line.startswith(b"data:"):
            stats.noise += 1
            continue
        try:
            chunk = _decode(line[5:].decode("utf-8", "replace"))
        except _UNPARSABLE:
            stats.malformed += 1
            continue
        if isinstance(chunk, dict) and "error" in chunk and "choices" not in chunk:
            yield Failure(_error_text(chunk["error"]))
        elif not isinstance(chunk, dict) or chunk.get("object") != "chat.completion.chunk":
            stats.malformed += 1
        else:
            stats.chunks += 1
            yield from state.chunk(chunk, stats)
    yield stats


def _lines(stream: IO, stats: Stats) -> Iterator[bytes]:
    """Lines as bytes, each at most MAX_LINE long; longer ones are drained and counted."""
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        stats.lines += 1
        newline = "\n" if isinstance(line, str) else b"\n"
        if len(line) >= MAX_LINE and not line.endswith(newline):
            stats.oversized += 1
            while line and not line.endswith(newline):
                line = stream.readline(MAX_LINE)
            continue
        yield line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line


class _State:
    """What the parser remembers between chunks: the model, and the tool-call ids seen lately."""

    def __init__(self) -> None:
        self.model = ""
        self.seen: OrderedDict[str, None] = OrderedDict()

    def chunk(self, chunk: dict, stats: Stats) -> list[Event]:
        """The events in one chunk (a list, not a generator: this runs for every line)."""
        out: list[Event] = []
        model = chunk.get("model")
        if model and isinstance(model, str) and model != self.model:
            self.model = model
            out.append(Model(model))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            details = usage.get("prompt_tokens_details")
            out.append(Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")),
                             _int(details.get("cached_tokens")) if isinstance(details, dict) else 0))
        for position, choice in enumerate(_list(chunk.get("choices"))):
            if isinstance(choice, dict):
                self.choice(choice, (chunk.get("id"), position), stats, out)
        return out

    def choice(self, choice: dict, where: tuple, stats: Stats, out: list[Event]) -> None:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        content = delta.get("content")
        if not isinstance(content, str):
            content = ""
        reason = choice.get("finish_reason")
        if not isinstance(reason, str):
            reason = None
        calls = delta.get("tool_calls")
        if calls and isinstance(calls, list):
            for index, call in enumerate(calls):
                function = call.get("function") if isinstance(call, dict) else None
                name = function.get("name") if isinstance(function, dict) else None
                if not name or not isinstance(name, str):
                    continue
                call_id = call.get("id")
                if not call_id or not isinstance(call_id, str):
                    call_id = f"{where[0]}:{where[1]}:{index}"  # no id: nothing to pair it with
                if self.first_sighting(call_id):
                    out.append(ToolCall(call_id, name, _arguments(function.get("arguments"))))
                else:
                    stats.duplicates += 1
                if content:
                    out.append(ToolResult(call_id, name, content))
        elif content and delta.get("role", "assistant") == "assistant":
            if "<pr_title>" in content:
                out.append(PullRequestText(_between(content, "<pr_title>", "</pr_title>", open_ended=False),
                                           _between(content, "<pr_description>", "</pr_description>")))
            else:
                out.append(Message(content, reason))
        if reason and reason != "tool_calls":
            out.append(Finish(reason))

    def first_sighting(self, call_id: str) -> bool:
        if call_id in self.seen:
            self.seen.move_to_end(call_id)
            return False
        self.seen[call_id] = None
        if len(self.seen) > SEEN_IDS:
            self.seen.popitem(last=False)
        return True


def _unstamped(line: bytes) -> bytes:
    """The line without the runner's timestamp (`2025-01-01T00:00:00.1234567Z `), if it has one."""
    if line[:19].translate(_DIGITS_AS_ZERO) != _STAMP_SHAPE:
        return line
    if line[19:21] == b"Z ":
        return line[21:]
    end = line.find(b"Z ", 20, 64)
    if line[19:20] == b"." and end > 20 and line[20:end].isdigit():
        return line[end + 2:]
    return line


def _between(text: str, start: str, end: str, *, open_ended: bool = True) -> str:
    """What `text` has between the first `start` and the next `end`, stripped; with no `end`, the
    rest of the text when `open_ended`, else nothing. Plain searching: a pattern with lazy `.*?`
    between two `\\s*` is quadratic on a run of spaces."""
    begin = text.find(start)
    if begin < 0:
        return ""
    begin += len(start)
    stop = text.find(end, begin)
    if stop < 0:
        if not open_ended:
            return ""
        stop = len(text)
    return text[begin:stop].strip()


def _arguments(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = _decode(raw) if isinstance(raw, str) and raw else {}
    except _UNPARSABLE:
        return {}
    return value if isinstance(value, dict) else {}


def _error_text(error) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or error)
    return str(error)


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
