"""Outside text made inert for a GitHub comment: no pings, no cross-references, no HTML, no links.

Secrets are redacted first, elsewhere (bot/redact.py): this module only changes how text renders.
"""

from __future__ import annotations

import html
from typing import Iterator

from bot.patterns import linear

# U+200B between "@"/"#" and what follows: GitHub no longer sees a mention or a reference,
# and people reading the comment see no difference (Dependabot quotes release notes this way).
ZWSP = "\u200b"

_FENCE = linear(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS = linear(r"`+")
_MENTION = linear(r"@([A-Za-z0-9])")
_REFERENCE = linear(r"#([0-9])|\b(GH)-([0-9])", ignore_case=True)
# A link to an issue or pull request makes GitHub add a "mentioned this" event to it.
_ISSUE_URL = linear(r"\b(https?):(//(?:www\.)?github\.com/[^\s/]+/[^\s/]+/(?:issues|pull|discussions)/\d)",
                    ignore_case=True)


def _newlines(text: str) -> str:
    """Every line ending as "\\n": markdown also ends a line at a lone "\\r", which would otherwise
    let text we treat as one line (a code span, a prose line) start a new block on GitHub."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def neutralise(text: str) -> str:
    """Markdown from the log, made inert: no pings, no cross-references, no HTML.

    Fenced blocks and one-line code spans are left as they are (GitHub renders them literally);
    an unclosed fence is closed so it cannot swallow the rest of the comment. A fence is moved to
    the line's start: indented, it could belong to a list item above it, and GitHub would end it
    where the list item ends while we still took the lines after it for code.
    """
    out: list[str] = []
    prose: list[str] = []
    fence = ""
    for line in _newlines(text).split("\n"):
        opener = _FENCE.match(line) if line[:4].lstrip(" ")[:1] in ("`", "~") else None
        if fence:
            out.append(line)
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = ""
        elif opener and not (opener.group(1)[0] == "`" and "`" in line[opener.end():]):
            if prose:
                out.append(_prose("\n".join(prose)))
                prose = []
            out.append(line.lstrip(" "))
            fence = opener.group(1)
        else:
            prose.append(line)
    if prose:
        out.append(_prose("\n".join(prose)))
    if fence:
        out.append(fence)
    return "\n".join(out)


def _prose(text: str) -> str:
    """Neutralise text outside fences, leaving one-line code spans alone."""
    pieces, last = [], 0
    for start, end in _code_spans(text):
        pieces.append(_inert(text[last:start]))
        pieces.append(text[start:end])
        last = end
    pieces.append(_inert(text[last:]))
    return "".join(pieces)


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each code span: a run of backticks up to the next run just as long on its line.

    A run right after a backslash is escaped: it opens nothing. Linear: each run is looked at once.
    """
    runs, line, scanned = [], 0, 0  # runs as (start, end, line number)
    for match in _BACKTICKS.finditer(text):
        line += text.count("\n", scanned, match.start())
        scanned = match.start()
        runs.append((match.start(), match.end(), line))
    closer: dict[int, int] = {}  # run index -> the next run of the same length on its line
    latest: dict[tuple[int, int], int] = {}  # (line, length) -> the leftmost such run seen, from the right
    for index in range(len(runs) - 1, -1, -1):
        start, end, line = runs[index]
        key = (line, end - start)
        if key in latest:
            closer[index] = latest[key]
        latest[key] = index
    index = 0
    while index < len(runs):
        start = runs[index][0]
        end = closer.get(index)
        if end is not None and text[start - 1:start] != "\\":
            yield start, runs[end][1]
            index = end + 1
        else:
            index += 1


def _inert(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _ISSUE_URL.sub(lambda m: f"{m.group(1)}:/{ZWSP}{m.group(2)[1:]}", text)
    text = _MENTION.sub(lambda m: "@" + ZWSP + m.group(1), text)
    return _REFERENCE.sub(lambda m: f"#{ZWSP}{m.group(1)}" if m.group(1) else f"{m.group(2)}-{ZWSP}{m.group(3)}",
                          text)


def one_line(text: str, limit: int = 200) -> str:
    """Neutralised text for a list item or heading: whitespace collapsed, at most `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1].rstrip() + "…"
    return _prose(flat)


def code_span(text: str) -> str:
    """`text` as inline code that no backtick inside can close early (newlines become spaces)."""
    flat = " ".join(_newlines(text).split("\n"))
    ticks = "`" * (_longest_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def code_block(text: str, lang: str = "") -> str:
    """`text` as a fenced block whose fence is longer than any backtick run inside it."""
    text = _newlines(text)
    fence = "`" * max(3, _longest_run(text) + 1)
    return f"{fence}{lang}\n{text.rstrip(chr(10))}\n{fence}"


def _longest_run(text: str) -> int:
    """The length of the longest run of backticks in `text`."""
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)
