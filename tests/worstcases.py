"""Generated worst cases for text scanners: the inputs that make backtracking patterns and naive
scanners take quadratic or exponential time.

For a pattern (or any scanner), the classes are: a long run of one character of every class the
pattern names or excludes; each keyword of the pattern repeated, with and without a separator
(`password` * n, `password=` * n, `<pr_title> ` * n…); a keyword, then a long run of one character
(`<pr_title>` + spaces); and delimiters left unclosed (a quote, a backtick, a tag, then a run).
"""

from __future__ import annotations

import string
from typing import Iterator

SIZE = 100_000
# One character of every class a pattern here distinguishes; keywords add their own characters.
CHARACTERS = ("a", "Z", "0", "_", " ", "\t", "\n", "\r", "\\", "`", "~", '"', "'", "=", ":", ";", ",", "-", ".", "/",
              "@", "#", "<", ">", "[", "]", "(", ")", "{", "}", "*", "|", "&", "!", "?", "%", "+", "x", "X",
              "é", "\u200b", "\u00a0", "✕", "\ud800")
SEPARATORS = ("", " ", "\n", "=", ":", ".", "-", "_", "/", "\\", "`", '"')
OPENERS = ('"', "'", "`", "``", "```", "<", "[", "(", "{", "-----BEGIN RSA PRIVATE KEY-----", "<pr_title>",
           "<pr_description>", "<!--", "https://", "- [ ] ", "\\`")


def keywords(source: str) -> list[str]:
    """The literal words and symbols of a pattern's source: runs of letters (with `_` and `-`)."""
    words, word = set(), ""
    for char in source + " ":
        if char in string.ascii_letters or (word and char in "_-"):
            word += char
        else:
            if len(word) >= 2:
                words.add(word)
            word = ""
    return sorted(words)


def inputs(source: str = "", size: int = SIZE) -> Iterator[tuple[str, str]]:
    """(name, text) pairs of about `size` characters each, for a scanner whose source (or the words
    it reacts to) is `source`."""
    for char in CHARACTERS:
        yield f"run of {char!r}", char * size
        yield f"run of {char!r} then a newline", char * size + "\n"
    for word in keywords(source) + ["password", "token", "secret", "Bearer", "GH", "ghp_", "eyJ"]:
        for separator in SEPARATORS:
            unit = word + separator
            yield f"{unit!r} repeated", unit * (size // len(unit))
        for char in (" ", "\n", "a", "=", '"', "\\", "`"):
            yield f"{word!r} then a run of {char!r}", word + char * size
    for opener in OPENERS:
        yield f"unclosed {opener!r} then text", opener + "a b " * (size // 4)
        yield f"{opener!r} repeated", opener * (size // len(opener))
        yield f"{opener!r} then a run of spaces", opener + " " * size
    for left, right in (("`", "``"), ("``", "`"), ("@", "a"), ("#", "1"), ("[", "]("), ("<", "a")):
        yield f"{left!r}{right!r} alternating", (left + right) * (size // (len(left) + len(right)))
