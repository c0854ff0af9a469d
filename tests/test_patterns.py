"""Every regular expression in bot/ runs in linear time: it is compiled on RE2 through bot.patterns,
and none takes more than milliseconds on 100 KB of any generated worst case.

The timing limit is a guard against a class of bug (catastrophic backtracking takes seconds to
hours on these inputs), not a benchmark: linear matching takes a few milliseconds here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import time
from pathlib import Path

import pytest

import bot
from bot import patterns, secret_rules
from bot.redact import redact
from tests import worstcases

ROOT = Path(__file__).parents[1]
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), ROOT / "app.py", ROOT / "gunicorn.conf.py"])
# Seconds one operation may take on one 100 KB input before it counts as catastrophic (linear takes
# milliseconds; the margin is for a machine busy with other work).
CATASTROPHIC = 5.0
# Python's own `re`, allowed only for patterns that never see outside text: "path: why". None today;
# an entry here needs the reason its input is always the bot's own text.
ALLOWED: dict[str, str] = {}


def uses_of_re(source: str) -> list[str]:
    """Each place a module imports or calls Python's `re` (or another regex engine) directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name in ("re", "regex", "re2")]
        elif isinstance(node, ast.ImportFrom) and node.module in ("re", "regex", "re2"):
            found.append(f"line {node.lineno}: from {node.module} import …")
    return found


def test_no_module_in_bot_uses_a_backtracking_regex_engine():
    offenders = {}
    for path in SOURCES:
        relative = str(path.relative_to(ROOT))
        if relative == "bot/patterns.py" or relative in ALLOWED:
            continue
        if found := uses_of_re(path.read_text()):
            offenders[relative] = found
    assert offenders == {}, "compile these with bot.patterns.linear (or add to ALLOWED with a reason)"


def test_the_source_check_finds_each_way_of_reaching_re():
    for source in ("import re\nre.compile('x')", "from re import compile", "import re as regexes",
                   "import os, re", "def f():\n    import re\n    return re.sub('a', 'b', 'c')", "import regex"):
        assert uses_of_re(source), source
    assert uses_of_re("from bot.patterns import linear\nlinear('x')") == []


def test_a_pattern_that_cannot_run_in_linear_time_is_refused_at_compile_time():
    for pattern in (r"(?<=a)b", r"(a)\1", r"a(?=b)", r"(?!x)."):
        with pytest.raises(ValueError, match="not a linear-time pattern"):
            patterns.linear(pattern)


def _every_pattern() -> list[patterns.Linear]:
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        importlib.import_module(module.name)
    return list(dict.fromkeys(patterns.PATTERNS))


# Gitleaks' ~200 rules (bot/secret_rules) are timed through `redact`, one call per input, not one by
# one: one by one, on every input, would take minutes, and `redact` is how they meet outside text.
VENDORED = secret_rules.every_pattern()
EVERY_PATTERN = [p for p in _every_pattern() if all(p is not v for v in VENDORED)]


def test_the_import_walk_finds_the_patterns_of_every_layer():
    from bot import redact
    from bot.commands import show_log
    from bot.handlers import comments
    from bot.logs import shell

    for pattern in (redact._ASSIGNED, comments._SLASH_LINE, show_log._CHECKLIST, shell._TEST):
        assert pattern in EVERY_PATTERN


def _worst(operation, text) -> float:
    started = time.perf_counter()
    operation(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("pattern", EVERY_PATTERN, ids=lambda p: repr(p.pattern)[:60])
def test_no_pattern_is_catastrophic_on_generated_worst_cases(pattern):
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode()
    slow = []
    for name, text in worstcases.inputs(source):
        subject = text if isinstance(pattern.pattern, str) else text.encode("utf-8", "surrogatepass")
        for operation in (lambda t: sum(1 for _ in pattern.finditer(t)), pattern.match, pattern.fullmatch):
            if (spent := _worst(operation, subject)) > CATASTROPHIC:
                slow.append(f"{name}: {spent:.1f} s")
    assert slow == []


def _vendored_inputs(size: int = worstcases.SIZE):
    """Worst cases for the vendored rules: runs of each character class, and each rule keyword
    repeated, with a separator, and followed by a run (which wakes its rules on 100 KB)."""
    for char in worstcases.CHARACTERS:
        yield f"run of {char!r}", char * size
    for word in secret_rules.KEYWORDS:
        yield f"{word!r} repeated", word * (size // len(word))
        yield f"{word!r}= repeated", (word + "= ") * (size // (len(word) + 2))
        yield f"{word!r} then a run", word + "=" + "a1B2" * (size // 4)


def test_the_vendored_rules_are_not_catastrophic_through_redact():
    slow = [f"{name}: {spent:.1f} s" for name, text in _vendored_inputs() if (spent := _worst(redact, text)) > CATASTROPHIC]

    assert slow == []
