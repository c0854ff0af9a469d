"""Secrets redacted from outside text before it is kept, logged or posted (bot/inert.py then makes it inert markdown)."""

from __future__ import annotations

from bot.patterns import linear

MARK = "[redacted]"
# Outside text is cut to this many times its final size before redaction (see `clipped`).
WINDOW = 2

_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
_SECRET_KEY = r"[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key)[\w.-]*"

# Secrets replaced whole. A private key block cut short by clipping still goes: from BEGIN to
# the end of the text (and from the start of the text to a dangling END: see `redact`).
_WHOLE = linear("|".join([
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    rf"{_PEM}.*?(?:{_PEM_END}|\z)",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
]), dot_all=True)
_KEY_BEGIN, _KEY_END = linear(_PEM), linear(_PEM_END)
# Secrets whose label stays readable: "Bearer …", "token …", "password=…", URL credentials.
_SCHEME = linear(r"\b((?i:bearer)\s+)[A-Za-z0-9._~+/=-]{8,}|\b((?i:token)\s+)[A-Za-z0-9._\-]{20,}")
_ASSIGNED = linear(
    rf"""(?P<key>["']?{_SECRET_KEY}["']?\s*[:=]\s*)"""
    r"""(?:(?P<done>\[redacted\])|"(?P<dq>(?:[^"\\\n]|\\.)+)"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s,;&"'`}\])]+))""",
    ignore_case=True)
_URL_CREDENTIALS = linear(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", ignore_case=True)


def redact(text: str) -> str:
    """Replace GitHub tokens, AWS keys, private keys, bearer tokens, JWTs and `password=`-style values."""
    end = _KEY_END.search(text)
    if end:
        begin = _KEY_BEGIN.search(text)
        if begin is None or begin.start() > end.start():  # the end of a key whose start was clipped off
            text = MARK + text[end.end():]
    text = _WHOLE.sub(MARK, text)
    text = _SCHEME.sub(lambda m: (m.group(1) or m.group(2)) + MARK, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + MARK + "@", text)
    return _ASSIGNED.sub(_assigned, text)


def _assigned(m) -> str:
    if m.group("done"):
        return m.group(0)
    if m.group("dq") is not None:
        return f'{m.group("key")}"{MARK}"'
    if m.group("sq") is not None:
        return f"{m.group('key')}'{MARK}'"
    return m.group("key") + MARK


def window(text: str, limit: int) -> str:
    """The start of `text`, WINDOW times `limit` at most: wide enough that redaction can run before
    the final clip, small enough that no outside text costs more than that to redact.

    The cut falls on whitespace, so no secret is kept in part (too short for redaction to know it).
    """
    if len(text) <= limit * WINDOW:
        return text
    cut = text[:limit * WINDOW]
    return cut[:max(cut.rfind(" "), cut.rfind("\n"), 0)]


def clipped(text: str, limit: int) -> str:
    """Outside text made safe to keep or log: cut to a window, redacted, then clipped to `limit`."""
    text = redact(window(text, limit))
    return text if len(text) <= limit else text[:limit - 1] + "…"
