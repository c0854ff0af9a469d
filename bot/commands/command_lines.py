"""Find the `/session` command lines of a comment. Pure: no I/O, no GitHub.

What a line means is the registry's (bot/commands/registry.py `interpret`); this module only says
which lines are commands.

A command is what GitHub shows as one: a line of a top-level paragraph of the comment, as GitHub's
own markdown parser (cmark-gfm, bot/cmark.py) reads it, that starts with the prefix as a whole word
both in the text written and in the text shown. So a line in a code block or span, a quote (lazy
continuation lines included), a list, a table, a heading, raw HTML (`<pre>`, `<details>` without a
blank line) or an HTML comment is not a command. Lines end only where GitHub ends them: at `\n`,
`\r` or `\r\n` (not at U+2028, U+2029, U+0085, `\v` or `\f`, which `str.splitlines()` would split
on). Several commands in one comment run in the order written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot import cmark

DEFAULT_PREFIX = "/session"
# Private-use characters: the marker around a candidate line's number, and what a comment's own
# use of them becomes first (any private-use character parses like any other).
_MARK, _END, _OTHER = "\ue000", "\ue001", "\ue002"
# The paragraph and the inline nodes that hold others (emphasis, links): what is in them is shown as text.
_CONTAINERS = {"paragraph", "emph", "strong", "link", "strikethrough"}


@dataclass(frozen=True)
class CommandLine:
    """One command line found in a comment; `position` counts commands from 0."""

    position: int
    text: str  # the whole line, stripped


def find_commands(body: str, prefix: str = DEFAULT_PREFIX) -> list[CommandLine]:
    """Every command line of a comment body, in order; each the whole line as written, stripped."""
    lines = _lines(body or "")
    candidates = [n for n, line in enumerate(lines) if _starts_with_word(line.lstrip(" \t"), prefix)]
    if not candidates:
        return []  # most comments: no parse needed
    shown = _shown_at_line_start(lines, candidates)
    found = [lines[n].strip() for n in candidates if n in shown]
    return [CommandLine(position, text) for position, text in enumerate(found)]


def _lines(text: str) -> list[str]:
    """The lines as GitHub counts them: split at \\r\\n, \\r and \\n only."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _shown_at_line_start(lines: list[str], candidates: list[int]) -> set[int]:
    """Which candidate lines GitHub shows as the start of a line of a top-level paragraph, in text.

    Each candidate gets a private-use marker naming it, put after its indentation. The marker changes
    no structure: a line starting with the prefix (always a `/` and a word, bot/repo_config.py) starts
    no block, with or without it, and to the inline parser a private-use character is neither
    punctuation nor space, so it opens, closes and interrupts nothing. A candidate
    is shown at a line start when its marker begins a text node that is the first thing of its
    paragraph or comes right after a line break; a marker anywhere else (code, raw HTML, a link's
    title, an image's description, a quote, a list) means the line is not shown as a command.
    """
    marked = [line.replace(_MARK, _OTHER).replace(_END, _OTHER) for line in lines]
    for n in candidates:
        indent = len(marked[n]) - len(marked[n].lstrip(" \t"))
        marked[n] = f"{marked[n][:indent]}{_MARK}{n}{_END}{marked[n][indent:]}"
    shown: set[int] = set()
    with cmark.parsed("\n".join(marked)) as document:
        for block in cmark.children(document):
            if cmark.kind(block) != "paragraph":
                continue
            line_start, in_image = True, 0
            for entering, node in cmark.walk(block):
                kind = cmark.kind(node)
                if kind == "image":  # shown as a picture: its description is not text on the line
                    in_image += 1 if entering else -1
                    line_start = False
                elif in_image or not entering or kind in _CONTAINERS:
                    continue
                elif kind in ("softbreak", "linebreak"):
                    line_start = True
                else:  # text, code, raw HTML, a footnote reference…: the line has started
                    if line_start and kind == "text" and (text := cmark.literal(node)).startswith(_MARK):
                        shown.add(int(text[1:text.index(_END)]))
                    line_start = False
    return shown


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


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
