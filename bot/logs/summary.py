"""Fold parsed agent-log events into a bounded Summary: what a reviewer wants to know about a session."""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import asdict, dataclass, field
from typing import Iterable

from bot.logs import reader as ev
from bot.logs.files import FileActivity, FileLog
from bot.logs.shell import is_test, outcome, tidy
from bot.patterns import linear
from bot.redact import WINDOW, clipped, redact, window

# How much of each kind is kept, so a 50 MB log costs no more memory than a small one.
KEEP_PROGRESS, KEEP_COMMANDS, KEEP_TESTS, KEEP_FAILURES, KEEP_ERRORS = 40, 40, 20, 20, 20
MAX_FILES, MAX_TOOL_NAMES, MAX_SETUP, MAX_PENDING = 1000, 100, 20, 256
# Characters kept of each text, after redaction. Every text from the log is cut to a window as it is
# read (so no field costs more to keep or redact than its window) and redacted before the final
# clip, so a secret cut in half at the edge is gone, not half-shown (bot.redact.clipped).
COMMAND_CHARS, EXCERPT_CHARS, MESSAGE_CHARS, DESCRIPTION_CHARS, LINE_CHARS = 1000, 2000, 20000, 6000, 300
NAME_CHARS = 80  # tool and model names

_TOOL_ERROR = linear(r"^(?:<error>|error\b|failed\b|fatal:|no replacement was performed)", ignore_case=True)
# What each file tool (or str_replace_editor command) does to the file its `path` names.
_FILE_ACTIONS = {"view": "read", "create": "create", "str_replace": "edit", "insert": "edit", "undo_edit": "edit",
                 "edit": "edit"}


@dataclass
class Sample:
    """The first and last items of a sequence too long to keep whole, and its length."""

    head: list = field(default_factory=list)
    tail: list = field(default_factory=list)
    total: int = 0

    @property
    def omitted(self) -> int:
        """How many items between head and tail were not kept."""
        return self.total - len(self.head) - len(self.tail)


@dataclass
class ShellCommand:
    """A shell command the agent ran, and what came of it."""

    command: str
    description: str = ""
    exit_code: int | None = None
    test: bool = False
    failed: bool = False
    excerpt: str = ""  # for tests: the tally and failing lines; for failures: the output's end


@dataclass
class Summary:
    """A session's agent log in brief; every text in it has been redacted."""

    models: list[str] = field(default_factory=list)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    progress: Sample = field(default_factory=Sample)  # report_progress commit messages, in order
    pr_description: str = ""  # the latest one report_progress sent (the PR's checklist)
    pr_title: str = ""
    setup: list[str] = field(default_factory=list)
    files: list[FileActivity] = field(default_factory=list)  # the repository's, by path relative to it
    elsewhere: list[FileActivity] = field(default_factory=list)  # outside the checkout, by absolute path
    files_omitted: int = 0
    reads: int = 0
    edits: int = 0
    creates: int = 0
    commands: Sample = field(default_factory=Sample)
    tests: Sample = field(default_factory=Sample)
    failures: Sample = field(default_factory=Sample)
    tools: dict[str, int] = field(default_factory=dict)
    final_message: str = ""
    finished: bool = False  # the agent ended with a final message ("stop")
    stop_reason: str = ""
    errors: Sample = field(default_factory=Sample)
    stats: ev.Stats = field(default_factory=ev.Stats)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens over all requests."""
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        """Plain data (JSON-serialisable), for storing a finished session's summary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Summary":
        """The Summary `to_dict` gave."""
        data = dict(data)
        for name, item in (("progress", None), ("commands", ShellCommand), ("tests", ShellCommand),
                           ("failures", ShellCommand), ("errors", None)):
            sample = data[name]
            data[name] = Sample([item(**x) if item else x for x in sample["head"]],
                                [item(**x) if item else x for x in sample["tail"]], sample["total"])
        data["files"] = [FileActivity(**f) for f in data["files"]]
        data["elsewhere"] = [FileActivity(**f) for f in data.get("elsewhere", ())]  # kept before it existed
        data["stats"] = ev.Stats(**data["stats"])
        return cls(**data)


def summarise(events: Iterable[ev.Event]) -> Summary:
    """Fold a stream of parse events into a Summary, in memory bounded whatever the log's size."""
    fold = _Fold()
    for event in events:
        fold.add(event)
    return fold.finish()


class _Bounded:
    """Keeps the first `keep // 2` and the last `keep - keep // 2` items appended, and counts all."""

    def __init__(self, keep: int):
        self.head: list = []
        self.tail: deque = deque(maxlen=keep - keep // 2)
        self.limit = keep // 2
        self.total = 0

    def append(self, item) -> None:
        self.total += 1
        (self.head.append if len(self.head) < self.limit else self.tail.append)(item)

    def sample(self, clean) -> Sample:
        return Sample([clean(x) for x in self.head], [clean(x) for x in self.tail], self.total)


class _Fold:
    def __init__(self) -> None:
        self.s = Summary()
        self.progress, self.errors = _Bounded(KEEP_PROGRESS), _Bounded(KEEP_ERRORS)
        self.commands, self.tests, self.failures = (_Bounded(KEEP_COMMANDS), _Bounded(KEEP_TESTS),
                                                    _Bounded(KEEP_FAILURES))
        self.files = FileLog(MAX_FILES, LINE_CHARS)
        self.tools: Counter = Counter()
        self.pending: OrderedDict[str, ShellCommand] = OrderedDict()  # commands still waiting for output
        self.final = self.last_words = ""

    def add(self, event: ev.Event) -> None:
        s = self.s
        if isinstance(event, ev.ToolCall):
            self.call(event)
        elif isinstance(event, ev.ToolResult):
            self.result(event)
        elif isinstance(event, ev.Usage):
            s.requests += 1
            s.prompt_tokens += event.prompt_tokens
            s.completion_tokens += event.completion_tokens
            s.cached_tokens += event.cached_tokens
        elif isinstance(event, ev.Model):
            name = event.name[:NAME_CHARS]
            if name not in s.models and len(s.models) < 5:
                s.models.append(name)
        elif isinstance(event, ev.Message):
            if event.finish_reason == "stop":
                self.final = window(event.text, MESSAGE_CHARS)
            else:
                self.last_words = window(event.text, MESSAGE_CHARS)
        elif isinstance(event, ev.PullRequestText):
            s.pr_title = window(event.title, LINE_CHARS)
        elif isinstance(event, ev.Finish):
            s.stop_reason = event.reason
            if event.reason not in ("stop", "tool_calls"):
                self.errors.append(f"The model stopped early: {event.reason}")
        elif isinstance(event, ev.Failure):
            self.errors.append(window(event.message, LINE_CHARS))
        elif isinstance(event, ev.Stats):
            s.stats = event

    def call(self, call: ev.ToolCall) -> None:
        name, args = call.name[:NAME_CHARS], call.arguments
        self.tools[name if name in self.tools or len(self.tools) < MAX_TOOL_NAMES else "(other)"] += 1
        if name == "str_replace_editor":
            name = args.get("command") if isinstance(args.get("command"), str) else ""
        if name in _FILE_ACTIONS:
            # Only a call whose arguments parse and name a path touched a file (the reader gives {} for
            # arguments that do not parse); the tool refuses any other, so it read or wrote nothing.
            if isinstance(args.get("path"), str) and args["path"]:
                self.files.record(_FILE_ACTIONS[name], args["path"])
        elif name in ("bash", "async_bash") and isinstance(args.get("command"), str):
            self.command(call.id, args)
        elif name == "report_progress":
            if isinstance(args.get("commitMessage"), str):
                self.progress.append(window(args["commitMessage"], LINE_CHARS))
            if isinstance(args.get("prDescription"), str):
                self.s.pr_description = window(args["prDescription"], DESCRIPTION_CHARS)
        elif name == "run_setup" and isinstance(args.get("name"), str) and len(self.s.setup) < MAX_SETUP:
            self.s.setup.append(window(args["name"], LINE_CHARS))

    def command(self, call_id: str, args: dict) -> None:
        text = tidy(window(args["command"], COMMAND_CHARS))
        description = args.get("description") if isinstance(args.get("description"), str) else ""
        command = ShellCommand(text, window(description, LINE_CHARS), test=is_test(text))
        self.commands.append(command)
        if command.test:
            self.tests.append(command)
        self.pending[call_id] = command
        if len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)

    def result(self, result: ev.ToolResult) -> None:
        command = self.pending.pop(result.id, None)
        if command is not None:
            self.outcome(command, result.content)
        elif result.name not in ("bash", "async_bash", "think", "read_bash") and _is_error(result.content):
            self.errors.append(f"{result.name}: {window(result.content.strip(), LINE_CHARS)}")

    def outcome(self, command: ShellCommand, output: str) -> None:
        command.exit_code, command.failed, command.excerpt = outcome(_tail(output, EXCERPT_CHARS), test=command.test)
        if command.failed:
            self.failures.append(command)

    def finish(self) -> Summary:
        s = self.s
        s.final_message = clipped(self.final or self.last_words, MESSAGE_CHARS)
        s.finished = bool(self.final)
        s.pr_title = clipped(s.pr_title, LINE_CHARS)
        s.pr_description = clipped(s.pr_description, DESCRIPTION_CHARS)
        s.setup = [clipped(x, LINE_CHARS) for x in s.setup]
        s.progress = self.progress.sample(lambda x: clipped(x, LINE_CHARS))
        s.errors = self.errors.sample(lambda x: clipped(x, LINE_CHARS))
        cleaned: dict[int, ShellCommand] = {}  # one ShellCommand can be in commands, tests and failures
        s.commands, s.tests, s.failures = (b.sample(lambda c: _clean_command(c, cleaned))
                                           for b in (self.commands, self.tests, self.failures))
        s.files, s.elsewhere = self.files.kept(True), self.files.kept(False)
        s.reads, s.edits, s.creates, s.files_omitted = (self.files.reads, self.files.edits, self.files.creates,
                                                        self.files.omitted)
        s.tools = {redact(name): n for name, n in self.tools.most_common()}
        s.models = [redact(m) for m in s.models]
        return s


def _is_error(output: str) -> bool:
    """Whether a tool's output starts like an error (most outputs are not: the first letter tells)."""
    start = output[:LINE_CHARS].lstrip()
    return start[:1] in ("<", "e", "E", "f", "F", "n", "N") and _TOOL_ERROR.match(start) is not None


def _tail(text: str, limit: int) -> str:
    """The end of `text`, cut on whitespace like bot.redact.window."""
    if len(text) <= limit * WINDOW:
        return text
    cut = text[-limit * WINDOW:]
    starts = [i for i in (cut.find(" "), cut.find("\n")) if i >= 0]
    return cut[min(starts) + 1:] if starts else ""


def _clean_command(command: ShellCommand, done: dict[int, ShellCommand]) -> ShellCommand:
    if id(command) not in done:
        excerpt = redact(command.excerpt)
        done[id(command)] = ShellCommand(clipped(command.command, COMMAND_CHARS), clipped(command.description, LINE_CHARS),
                                    command.exit_code, command.test, command.failed, excerpt[-EXCERPT_CHARS:])
    return done[id(command)]
