"""Outside text made inert for a GitHub comment: it reads the same, and nothing in it renders live.

The one escaping model for every piece of text the bot did not write itself (agent logs, PR titles
and bodies, commit messages, comments, config files, error messages) on its way into a comment:

- Text is escaped: a backslash before every ASCII punctuation character. CommonMark makes each such
  character a literal that can start nothing (emphasis, links, images, code, raw HTML, entities,
  autolinks, list items, headings, quotes, tables, fences), and GitHub's extended autolinks need an
  unescaped `:` or `.` (`https://`, `www.`, `a@b.c`), so no link survives either. In multi-line
  text a line may keep what starts it as a heading, list item or quote (none of them is live).
- GitHub finds mentions and references in the rendered text, after escaping has done its work:
  a zero-width space after `@`, `#` and `GH-` (before what would name a person, team or issue),
  and inside a link to an issue or pull request, breaks them while people read the same words.
- Code stays code only inside the bot's own code spans and fences, whose backtick runs are longer
  than any run inside them, so no text can close them. Code the text had (a span within one line,
  a fenced block) is re-emitted that way; how the bot pairs backticks only changes how text looks,
  never what is live. Other backticks are escaped like any punctuation.

Secrets are redacted before this, elsewhere (bot/redact.py): this module only changes how text renders.
tests/security/test_markdown.py holds it to GitHub's own renderer (cmarkgfm).
"""

from __future__ import annotations

import string
from typing import Iterator

from bot.patterns import linear

# U+200B: GitHub no longer sees a mention or a reference, and people see no difference
# (Dependabot quotes release notes this way).
ZWSP = "\u200b"

_ESCAPES = str.maketrans({char: "\\" + char for char in string.punctuation})
_FENCE = linear(r"^ {0,3}(`{3,}|~{3,})")
_LANGUAGE = linear(r"[A-Za-z0-9_+#.-]{1,30}")
# What starts a heading, a list item or a quote: kept, as none of them can be live.
_LINE_START = linear(r"^[ \t]*(?:#{1,6}|[-*+]|[0-9]{1,9}[.)]|>)(?: |$)")
_BACKTICKS = linear(r"`+")
_MENTION = linear(r"@([A-Za-z0-9])")
_REFERENCE = linear(r"#([0-9])|\b(GH)-([0-9])", ignore_case=True)
# A link to an issue or pull request makes GitHub add a "mentioned this" event to it.
_ISSUE_URL = linear(r"(https?):(//(?:www\.)?github\.com/[^\s/]+/[^\s/]+/(?:issues|pull|discussions)/\d)",
                    ignore_case=True)


def one_line(text: str, limit: int = 200) -> str:
    """Outside text as inert markdown on one line (for a list item or a heading; a table cell
    takes `table_cell`): whitespace collapsed, at most `limit` characters before escaping."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1].rstrip() + "…"
    return _escaped(flat)


def table_cell(text: str, limit: int = 200) -> str:
    """Outside text as inert markdown in a table cell: `one_line`, and every `|` escaped once more,
    since GFM splits a row at a pipe before it reads inlines, code spans included (an escaped one
    becomes `\\\\|`, which the table reads as a backslash then an escaped pipe)."""
    return one_line(text, limit).replace("|", "\\|")


def prose(text: str) -> str:
    """Outside markdown (an agent's message, a PR description) as inert markdown, line for line.

    Its fenced code blocks stay code blocks, re-fenced by the bot (an unclosed one ends with the
    text); every other line is escaped, so its lists, links and emphasis show as typed.
    """
    out: list[str] = []
    code: list[str] = []
    fence = language = ""
    for line in _newlines(text).split("\n"):
        opener = _FENCE.match(line) if line[:4].lstrip(" ")[:1] in ("`", "~") else None
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                out.append(code_block("\n".join(code), language))
                fence, code = "", []
            else:
                code.append(line)
        elif opener and not (opener.group(1)[0] == "`" and "`" in line[opener.end():]):
            fence = opener.group(1)
            info = line[opener.end():].split()
            language = info[0] if info and _LANGUAGE.fullmatch(info[0]) else ""
        else:
            start = _LINE_START.match(line)
            cut = start.end() if start else 0
            out.append(line[:cut] + _escaped(line[cut:]))
    if fence:
        out.append(code_block("\n".join(code), language))
    return "\n".join(out)


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


def _escaped(line: str) -> str:
    """One line of outside text, inert, its code spans re-emitted by the bot: see the module docstring."""
    pieces, last = [], 0
    for start, end, ticks in _code_spans(line):
        pieces.append(_text(line[last:start]))
        pieces.append(code_span(line[start + ticks:end - ticks]))
        last = end
    pieces.append(_text(line[last:]))
    return "".join(pieces)


def _code_spans(line: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, backticks) of each code span in a line: a backtick run up to the next run just as
    long, unless a backslash comes before it. Linear: a pass from the right finds each run's partner."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    partner: dict[int, int] = {}
    latest: dict[int, int] = {}  # run length -> the nearest run of that length to the right
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        if length in latest:
            partner[index] = latest[length]
        latest[length] = index
    index = 0
    while index < len(runs):
        start, end = runs[index]
        closer = partner.get(index)
        if closer is not None and line[start - 1:start] != "\\":
            yield start, runs[closer][1], end - start
            index = closer + 1
        else:
            index += 1


def _text(line: str) -> str:
    """Outside text with no code in it, inert."""
    line = _ISSUE_URL.sub(lambda m: f"{m.group(1)}:/{ZWSP}{m.group(2)[1:]}", line)
    line = _MENTION.sub(lambda m: "@" + ZWSP + m.group(1), line)
    line = _REFERENCE.sub(lambda m: f"#{ZWSP}{m.group(1)}" if m.group(1) else f"{m.group(2)}-{ZWSP}{m.group(3)}",
                          line)
    return line.translate(_ESCAPES)


def _newlines(text: str) -> str:
    """Every line ending as "\\n": markdown also ends a line at a lone "\\r", which would otherwise
    let text we treat as one line (a code span, a prose line) start a new block on GitHub."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _longest_run(text: str) -> int:
    """The length of the longest run of backticks in `text`."""
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)
