"""Make text safe to quote in a GitHub comment: secrets redacted, mentions, references and markup defused."""

from __future__ import annotations

import html
import re

MARK = "[redacted]"
# U+200B between "@"/"#" and what follows: GitHub no longer sees a mention or a reference,
# and people reading the comment see no difference (Dependabot quotes release notes this way).
ZWSP = "\u200b"

_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
_SECRET_KEY = r"[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key)[\w.-]*"

# Secrets replaced whole. A private key block cut short by clipping still goes: from BEGIN to
# the end of the text, and from the start of the text to a dangling END.
_WHOLE = re.compile("|".join([
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    rf"{_PEM}.*?(?:{_PEM_END}|\Z)",
    rf"\A(?:(?!{_PEM}).)*?{_PEM_END}",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
]), re.S)
# Secrets whose label stays readable: "Bearer …", "token …", "password=…", URL credentials.
_SCHEME = re.compile(r"\b((?i:bearer)\s+)[A-Za-z0-9._~+/=-]{8,}|\b((?i:token)\s+)[A-Za-z0-9._\-]{20,}")
_ASSIGNED = re.compile(
    rf"""(?ix)
    (?P<key>["']?{_SECRET_KEY}["']?\s*[:=]\s*)
    (?:(?P<done>\[redacted\])|"(?P<dq>(?:[^"\\\n]|\\.)+)"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s,;&"'`}}\])]+))
    """)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.I)


def redact(text: str) -> str:
    """Replace GitHub tokens, AWS keys, private keys, bearer tokens, JWTs and `password=`-style values."""
    text = _WHOLE.sub(MARK, text)
    text = _SCHEME.sub(lambda m: (m.group(1) or m.group(2)) + MARK, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + MARK + "@", text)
    return _ASSIGNED.sub(_assigned, text)


def _assigned(m: re.Match) -> str:
    if m.group("done"):
        return m.group(0)
    if m.group("dq") is not None:
        return f'{m.group("key")}"{MARK}"'
    if m.group("sq") is not None:
        return f"{m.group('key')}'{MARK}'"
    return m.group("key") + MARK


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A code span on one line; an opening backtick after a backslash is not one, so it is escaped.
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?!`)([^\n]*?[^`\n]|[^`\n])\1(?!`)")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"#(?=\d)|(?<=\bGH)-(?=\d)", re.I)
# A link to an issue or pull request makes GitHub add a "mentioned this" event to it.
_ISSUE_URL = re.compile(r"\b(https?):(//(?:www\.)?github\.com/[^\s/]+/[^\s/]+/(?:issues|pull|discussions)/\d)",
                        re.I)


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
        opener = _FENCE.match(line)
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
    for m in _CODE_SPAN.finditer(text):
        pieces.append(_inert(text[last:m.start()]))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(_inert(text[last:]))
    return "".join(pieces)


def _inert(text: str) -> str:
    text = html.escape(text, quote=False)
    text = _ISSUE_URL.sub(lambda m: f"{m.group(1)}:/{ZWSP}{m.group(2)[1:]}", text)
    text = _MENTION.sub("@" + ZWSP, text)
    return _REFERENCE.sub(lambda m: m.group(0) + ZWSP, text)


def one_line(text: str, limit: int = 200) -> str:
    """Neutralised text for a list item or heading: whitespace collapsed, at most `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1].rstrip() + "…"
    return _prose(flat)


def code_span(text: str) -> str:
    """`text` as inline code that no backtick inside can close early (newlines become spaces)."""
    flat = " ".join(_newlines(text).split("\n"))
    ticks = "`" * (_longest_run(flat, "`") + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def code_block(text: str, lang: str = "") -> str:
    """`text` as a fenced block whose fence is longer than any backtick run inside it."""
    text = _newlines(text)
    fence = "`" * max(3, _longest_run(text, "`") + 1)
    return f"{fence}{lang}\n{text.rstrip(chr(10))}\n{fence}"


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max(map(len, runs), default=0)
