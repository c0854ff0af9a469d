"""Find `/session` commands in a comment and parse them. Pure: no I/O, no GitHub.

A command is a line that starts (after spaces) with the prefix as a whole word. Lines inside
fenced code blocks, HTML comments and `>` quotes are not commands; nor is a line that starts
with inline code. Several commands in one comment run in the order written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.patterns import linear

DEFAULT_PREFIX = "/session"
_FENCE = linear(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class CommandLine:
    """One command line found in a comment; `position` counts commands from 0."""

    position: int
    text: str  # the whole line, stripped


@dataclass(frozen=True)
class Command:
    """A well-formed command."""

    name: str  # the canonical name: help, list, log, stop
    number: int | None = None  # the per-PR session number, when given
    all: bool = False  # stop all
    full: bool = False  # log --full


@dataclass(frozen=True)
class Invalid:
    """A command line that does not parse; the reply explains and shows the help."""

    reason: str


def find_commands(body: str, prefix: str = DEFAULT_PREFIX) -> list[CommandLine]:
    """Every command line of a comment body, in order."""
    found: list[str] = []
    fence: str | None = None
    in_html_comment = False
    for line in (body or "").splitlines():
        if fence:
            if line.lstrip(" ").startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        if in_html_comment:
            in_html_comment = "-->" not in line
            continue
        if match := _FENCE.match(line):
            fence = match.group(1)
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:
            in_html_comment = True
            continue
        if _starts_with_word(line.lstrip(" \t"), prefix):
            found.append(line.strip())
    return [CommandLine(position, text) for position, text in enumerate(found)]


def _starts_with_word(text: str, word: str) -> bool:
    """True when `text` starts with `word` (in any case) and the word ends there: `/sessions` is not `/session`."""
    after = text[len(word):len(word) + 1]
    return text[:len(word)].lower() == word.lower() and not (after.isalnum() or after in ("_", "-"))


def added_commands(body: str, previous: str, prefix: str = DEFAULT_PREFIX) -> list[CommandLine]:
    """Commands of an edited comment that its previous body did not have (each once)."""
    before = Counter(_normal(c.text) for c in find_commands(previous, prefix))
    added = []
    for command in find_commands(body, prefix):
        key = _normal(command.text)
        if before[key]:
            before[key] -= 1
        else:
            added.append(command)
    return added


def parse(text: str, prefix: str = DEFAULT_PREFIX) -> Command | Invalid:
    """Parse one command line (as found by `find_commands`) against the grammar."""
    words = text.split()[1:]  # drop the prefix
    if not words:
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    if verb == "help" and not rest:
        return Command("help")
    if verb in ("list", "status") and not rest:
        return Command("list")
    if verb == "log":
        full = any(w.lower() == "--full" for w in rest)
        rest = [w for w in rest if w.lower() != "--full"]
        if not rest or (len(rest) == 1 and rest[0].lower() == "latest"):
            return Command("log", full=full)
        if len(rest) == 1 and (number := _number(rest[0])):
            return Command("log", number=number, full=full)
        return Invalid("`log` takes a session number or `latest`, and `--full`")
    if verb == "stop":
        if not rest:
            return Command("stop")
        if len(rest) == 1 and rest[0].lower() == "all":
            return Command("stop", all=True)
        if len(rest) == 1 and (number := _number(rest[0])):
            return Command("stop", number=number)
        return Invalid("`stop` takes a session number or `all`")
    # The reason never repeats the user's words: the reply quotes the line, neutralised, instead.
    return Invalid("that is not a command" if verb not in ("help", "list", "status") else "it takes no arguments")


def _number(word: str) -> int | None:
    digits = word[1:] if word.startswith("#") else word
    return int(digits) if digits.isdigit() and 0 < int(digits) < 1_000_000 else None


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
