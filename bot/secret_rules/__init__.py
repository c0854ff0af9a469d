"""Gitleaks' secret rules (vendored data, see README.md): where a text holds a known kind of secret.

Each rule is run as gitleaks runs it (detect/detect.go of the vendored version): only when one of its
keywords occurs in the text (case-insensitive); the secret is its `secretGroup`, else its first
non-empty group, else the whole match; a rule with an `entropy` keeps only secrets whose Shannon
entropy is above it; a secret its allowlists (or the global one) allow is kept. Paths do not exist
here: a rule that gitleaks applies only to some files is skipped (SKIPPED), and an allowlist's
`paths` never match, as gitleaks' never match a fragment without a path. Gitleaks' decoding of
base64, hex and percent-encoded text is not done.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterator

from bot.patterns import Linear, LinearSet, linear

RULES_FILE = Path(__file__).with_name("gitleaks.toml")
# Rules never run, with why. A rule added upstream that RE2 cannot compile fails the import (and so
# the tests) until it is named here: RE2 and Go's regexp share their syntax, so none fails today.
SKIPPED = {
    rule_id: "applies to some files only (its `path`); redacted text has no path"
    for rule_id in ("freemius-secret-key", "hashicorp-tf-password", "kubernetes-secret-yaml",
                    "nuget-config-password", "pkcs12-file")
}
_SPECIAL = frozenset("\\.+*?()|[]{}^$")


@dataclass(frozen=True)
class Allowlist:
    """What a rule (or every rule) lets through: secrets, matches or lines its regexes or stopwords find."""

    target: str  # "secret", "match" or "line": what `regexes` are searched in
    regexes: str  # one alternation, compiled when first needed (see `compiled`), or ""
    stopwords: str  # searched in the secret, whatever the target, case-insensitive
    every: bool  # condition "AND": every criterion given must hold (and a path never does)
    paths: bool

    def allows(self, secret: str, match: str, line: str) -> bool:
        """Whether this allowlist lets the finding through, as gitleaks' checkFindingAllowed decides."""
        target = {"match": match, "line": line}.get(self.target, secret)
        by_regex = bool(self.regexes and target and compiled(self.regexes).search(target))
        by_word = bool(self.stopwords and secret and compiled(self.stopwords, ignore_case=True).search(secret))
        if not self.every:
            return by_regex or by_word
        checks = [False] * self.paths + [by_regex] * bool(self.regexes) + [by_word] * bool(self.stopwords)
        return bool(checks) and all(checks)


@dataclass(frozen=True)
class Rule:
    """One gitleaks rule, compiled on RE2."""

    id: str
    regex: str  # compiled when the rule first runs (see `compiled`)
    group: int  # secretGroup; 0: the first non-empty group, or the whole match
    entropy: float
    allowlists: tuple[Allowlist, ...]

    def secrets(self, text: str, allowed: Allowlist) -> Iterator[tuple[int, int]]:
        """The (start, end) of each secret this rule finds in `text` and no allowlist lets through."""
        for m in compiled(self.regex).finditer(text):
            start, end = m.span()
            while end > start and text[end - 1] == "\n":  # gitleaks trims the newlines around a match
                end -= 1
            while start < end and text[start] == "\n":
                start += 1
            groups = m.groups()
            index = self.group or next((i for i, g in enumerate(groups, 1) if g), 0)
            if index:
                start, end = m.span(index)
            secret = text[start:end]
            if not secret or (self.entropy and entropy(secret) <= self.entropy):
                continue
            match = text[m.start():m.end()].strip("\n")
            line = text[text.rfind("\n", 0, start) + 1:_line_end(text, end)]
            if not any(a.allows(secret, match, line) for a in (allowed, *self.allowlists)):
                yield start, end


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits, as gitleaks computes it (characters over UTF-8 length)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every secret the rules find in `text`, in no particular order.

    One RE2::Set scan for every rule's keywords (as gitleaks' Aho-Corasick prefilter) picks the rules
    that may apply: most lines wake none or a few.
    """
    rules = sorted({i for word in _KEYWORDS.which(text) for i in _RULES_OF[KEYWORDS[word]]})
    return [span for i in rules for span in RULES[i].secrets(text, ALLOWED)]


@cache
def compiled(pattern: str, *, ignore_case: bool = False) -> Linear:
    """`pattern` compiled on RE2, once: a rule is compiled when it first runs, so importing costs little."""
    return linear(pattern, ignore_case=ignore_case)


def every_pattern() -> list[Linear]:
    """Every pattern of the rule set, compiled now (tests/test_patterns.py times them through `redact`)."""
    found = [compiled(rule.regex) for rule in RULES]
    for allowlist in (ALLOWED, *(a for rule in RULES for a in rule.allowlists)):
        if allowlist.regexes:
            found.append(compiled(allowlist.regexes))
        if allowlist.stopwords:
            found.append(compiled(allowlist.stopwords, ignore_case=True))
    return found


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _escape(word: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in word)


def _allowlist(data: dict) -> Allowlist:
    regexes = data.get("regexes", [])
    stopwords = data.get("stopwords", [])
    return Allowlist(
        target=data.get("regexTarget", "secret"),
        # Each regex in a group of its own, so an inline flag such as `(?i)` stays within it.
        regexes="|".join(f"(?:{r})" for r in regexes),
        stopwords="|".join(map(_escape, stopwords)),
        every=data.get("condition", "OR").upper() == "AND",
        paths=bool(data.get("paths")))


def _load() -> tuple[list[Rule], dict[str, list[int]], Allowlist]:
    config = tomllib.loads(RULES_FILE.read_text())
    rules, keywords = [], {}
    for data in config["rules"]:
        if data["id"] in SKIPPED:
            continue
        if "path" in data or not data.get("keywords"):
            raise ValueError(f"gitleaks rule {data['id']} needs a path or has no keywords: add it to SKIPPED, saying why")
        for word in data["keywords"]:
            keywords.setdefault(word.lower(), []).append(len(rules))
        rules.append(Rule(data["id"], data["regex"], data.get("secretGroup", 0), data.get("entropy", 0.0),
                          tuple(map(_allowlist, data.get("allowlists", [])))))
    return rules, keywords, _allowlist(config["allowlist"])


RULES, _RULES_OF, ALLOWED = _load()
KEYWORDS = list(_RULES_OF)  # every rule keyword, lower case
_KEYWORDS = LinearSet([_escape(word) for word in KEYWORDS], ignore_case=True)
