"""Secrets redacted from outside text before it is kept, logged or posted (bot/inert.py then makes it inert markdown)."""

from __future__ import annotations

from bot import secret_rules
from bot.patterns import linear

MARK = "[redacted]"
# Outside text is cut to this many times its final size before redaction (see `clipped`).
WINDOW = 2

_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"  # PEM, OpenSSH and PGP ("… KEY BLOCK")
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_SECRET_KEY = r"[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key)[\w.-]*"

# Secrets replaced whole. GitHub's tokens have no `\b` before them: JSON-escaped text (`\nghs_…`),
# percent-encoding (`%3Aghs_…`) and names (`TOKEN_ghs_…`) put a word character there. A private key
# block cut short by clipping still goes: from BEGIN to the end of the text (and from the start of
# the text to a dangling END: see `redact`).
_WHOLE = linear("|".join([
    r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    rf"{_PEM}.*?(?:{_PEM_END}|\z)",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
]), dot_all=True)
_KEY_BEGIN, _KEY_END = linear(_PEM), linear(_PEM_END)
# Secrets whose label stays readable, each alternative a (label)(secret): "Bearer …", "token …",
# "Authorization: Basic …", `curl -u user:…`, `mysql -p…` (whose value is glued to the option; `-P`
# is the port), URL credentials (the user may be empty: `redis://:pw@host`, and the `@` stays).
_LABELLED = linear("|".join([
    r"\b((?i:bearer)\s+)[A-Za-z0-9._~+/=-]{8,}",
    r"\b((?i:token)\s+)[A-Za-z0-9._\-]{20,}",
    r"\b((?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:basic)\s+)[A-Za-z0-9+/=]{4,}",
    r"(\bcurl\b[^\n]*?\s(?:-u\s*|--user[\s=]\s*)[\"']?[^\s:\"']*:)[^\s\"']+",
    r"(\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?\s-p)[^\s\"']+",
    r"(\b(?i:[a-z][a-z0-9+.-]*)://[^/\s:@]*:)[^@\s/]+(@)",
]))
# Not in a path (`src/token_store.py:42:`), nor a value that starts with a colon (pytest's
# `test_secret.py::test_x`): those are names, not assignments.
_ASSIGNED = linear(
    rf"""(?P<before>^|[^/])(?P<key>["']?{_SECRET_KEY}["']?\s*[:=])"""
    # A YAML list under the key (`password:` then `  - hunter2` lines): every item goes.
    r"""(?:(?P<list>(?:[ \t]*\n[ \t]*-[ \t]+[^\n]*)+)|(?P<gap>\s*)(?:(?P<done>\[redacted\])"""
    # A quoted value may have lost its closing quote to clipping: it runs to the end of the line.
    r"""|"(?P<dq>(?:[^"\\\n]|\\.)+)(?P<dq_end>"?)|'(?P<sq>[^'\n]+)(?P<sq_end>'?)|(?P<bare>[^\s,;&"'`}\]):][^\s,;&"'`}\])]*)))""",
    ignore_case=True)
_LIST_ITEM = linear(r"(\n[ \t]*-[ \t]+)[^\n]*")


def redact(text: str) -> str:
    """Replace secrets: GitHub tokens, private keys, credentials in URLs, commands and headers,
    `password=`-style values, and every kind gitleaks' rules know (bot/secret_rules)."""
    end = _KEY_END.search(text)
    if end:
        begin = _KEY_BEGIN.search(text)
        if begin is None or begin.start() > end.start():  # the end of a key whose start was clipped off
            text = MARK + text[end.end():]
    text = _WHOLE.sub(MARK, text)
    text = _LABELLED.sub(_labelled, text)
    text = _ASSIGNED.sub(_assigned, text)
    return _without(text, secret_rules.spans(text))


def _labelled(m) -> str:
    label, *rest = [g for g in m.groups() if g is not None]
    return label + MARK + "".join(rest)


def _assigned(m) -> str:
    key = m.group("before") + m.group("key")
    if m.group("list") is not None:
        return key + _LIST_ITEM.sub(lambda item: item.group(1) + MARK, m.group("list"))
    if m.group("done"):
        return m.group(0)
    key += m.group("gap")
    if m.group("dq") is not None:
        return f'{key}"{MARK}{m.group("dq_end")}'
    if m.group("sq") is not None:
        return f"{key}'{MARK}{m.group('sq_end')}"
    return key + MARK


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (overlapping or not) replaced by one MARK."""
    if not spans:
        return text
    kept, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            kept += [text[at:start], MARK]
        at = max(at, end)
    return "".join(kept) + text[at:]


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
