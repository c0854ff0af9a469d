"""Regular expressions for text from outside, compiled on RE2: matching time is linear in the input.

Python's `re` backtracks: one pattern with nested or adjacent quantifiers can take minutes on a few
kilobytes an attacker chose, holding the GIL the whole time, so every thread of the process stops
with it (gunicorn's heartbeat and the job leases included). RE2 (google-re2, RE2's own bindings)
guarantees time linear in the input for every pattern it accepts, and refuses at compile time the
features that cannot be linear (lookaround, backreferences), so a slow pattern cannot be written.

Every pattern that may see outside text — request lines, headers, payloads, agent logs, comments,
PR titles and bodies, commit messages, repository config — is compiled with `linear()`.
tests/test_patterns.py fails on any other regular expression in bot/, and feeds every pattern
compiled here (PATTERNS) generated worst cases.

RE2's syntax differs from `re` in small ways worth knowing: `\\z` ends the text (no `\\Z`), and
`\\w`, `\\d`, `\\s` and `\\b` are ASCII-only.
"""

from __future__ import annotations

from typing import Callable, Iterator, Union

import re2

Text = Union[str, bytes]
PATTERNS: list["Linear"] = []  # every pattern compiled here, in the order modules were imported


class Linear:
    """A compiled RE2 pattern with the `re.Pattern` methods the bot uses.

    `sub` takes a function or a literal replacement: unlike `re`, a string replacement is never
    parsed for group references or escapes (RE2's bindings would decode it as unicode-escape).
    """

    __slots__ = ("pattern", "_regexp")

    def __init__(self, pattern: Text, regexp) -> None:
        self.pattern = pattern
        self._regexp = regexp

    def search(self, text: Text):
        """The first match anywhere in `text`, or None."""
        return self._regexp.search(_encodable(text))

    def match(self, text: Text):
        """A match at the start of `text`, or None."""
        return self._regexp.match(_encodable(text))

    def fullmatch(self, text: Text):
        """A match of the whole of `text`, or None."""
        return self._regexp.fullmatch(_encodable(text))

    def finditer(self, text: Text) -> Iterator:
        """Every non-overlapping match, left to right."""
        return self._regexp.finditer(_encodable(text))

    def findall(self, text: Text) -> list:
        """Like `re.Pattern.findall`: whole matches, the one group, or tuples of groups."""
        return self._regexp.findall(_encodable(text))

    def split(self, text: Text) -> list:
        """`text` split at every match (groups included, as `re` does)."""
        return self._regexp.split(_encodable(text))

    def sub(self, replacement: Union[Text, Callable], text: Text) -> Text:
        """`text` with every match replaced by `replacement(match)`, or by the literal `replacement`."""
        function = replacement if callable(replacement) else (lambda _match: replacement)
        return self._regexp.sub(function, _encodable(text))

    def __repr__(self) -> str:
        return f"linear({self.pattern!r})"


class LinearSet:
    """Several RE2 patterns at once (RE2::Set): which of them occur in a text, in one linear scan.

    Unlike an alternation searched match by match, it reports patterns whose matches overlap, and
    costs one call whatever it finds. Not in PATTERNS (it has no `finditer`): its one user,
    bot/secret_rules, is timed on worst cases through `bot.redact.redact`.
    """

    __slots__ = ("patterns", "_set")

    def __init__(self, patterns: list[str], *, ignore_case: bool = False) -> None:
        self.patterns = patterns
        options = re2.Options()
        options.log_errors = False
        options.case_sensitive = not ignore_case
        self._set = re2.Set.SearchSet(options)
        for pattern in patterns:
            try:
                self._set.Add(pattern)
            except re2.error as exc:
                raise ValueError(f"not a linear-time pattern {pattern!r}: {exc}") from None
        self._set.Compile()

    def which(self, text: Text) -> list[int]:
        """The index in `patterns` of each pattern that matches somewhere in `text`."""
        return self._set.Match(_encodable(text)) or []


def _encodable(text: Text) -> Text:
    """`text` as RE2 can take it: RE2 reads UTF-8, and a str may hold lone surrogates (JSON's
    "\\ud800" decodes to one) that UTF-8 cannot encode; each becomes U+FFFD, so offsets stay put."""
    if isinstance(text, bytes) or text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def linear(pattern: Text, *, ignore_case: bool = False, multiline: bool = False,
           dot_all: bool = False) -> Linear:
    """Compile `pattern` on RE2; a pattern RE2 cannot run in linear time is refused here, at import."""
    flags = "i" * ignore_case + "m" * multiline + "s" * dot_all
    if flags:
        prefix = f"(?{flags})"
        pattern = prefix + pattern if isinstance(pattern, str) else prefix.encode() + pattern
    options = re2.Options()
    options.log_errors = False  # the exception says it; RE2 would also print to stderr
    try:
        compiled = Linear(pattern, re2.compile(pattern, options))
    except re2.error as exc:
        raise ValueError(f"not a linear-time pattern {pattern!r}: {exc}") from None
    PATTERNS.append(compiled)
    return compiled

