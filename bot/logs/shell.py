"""What the agent's shell commands were: test runs, exit codes, and the lines of their output worth showing."""

from __future__ import annotations

from bot.patterns import linear

# The agent starts most commands with this; it says nothing a reviewer needs.
_CD_WORKSPACE = linear(r"^cd /home/runner/work/[^/\s]+/[^/\s]+/?\s*&&\s*")
_EXIT = linear(r"<exited with exit code -?\d+>")
_EXIT_MARK = "<exited with exit code "
# A test run: a command segment (what follows the start, `&&`, `||`, `;`, `|` or a newline) that
# starts, after env assignments and wrappers, with a test runner. One search over the whole command.
_TEST = linear(
    r"(?:\A|&&|\|\||[;|\n])\s*(?:\w+=\S*\s+)*(?:(?:sudo|time|timeout\s+\S+|xvfb-run(?:\s+-a)?|(?:poetry|uv|pipenv|hatch|pdm)\s+run"
    r"|bundle\s+exec|npx|python[\d.]*\s+-m)\s+)*(?:\S*/)?"
    r"(?:py\.?test|tox|nox|unittest|(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test[\w:-]*|jest|vitest|mocha|playwright\s+test"
    r"|go\s+test|cargo\s+(?:test|nextest)|dotnet\s+test|mvn\b[^;&|\n]*\btest|gradlew?\b[^;&|\n]*\btest|rspec|phpunit|ctest"
    r"|make\s+(?:check|test\w*)|rake\s+test|deno\s+test|swift\s+test|mix\s+test)(?:[\s;&|]|$)")
_FAILED = r"\bFAILED\b|\bFAIL\b|\bERROR\b|\bError\b|panicked|✕|✗|\bfailures?:"
_TALLY = r"\b\d+ (?:passed|failed|errors?|tests?|examples?)\b|test result:|^Tests?:|^ok\s"
_FAILED_LINE = linear(_FAILED)
# The lines of a test run's output worth showing, found in one pass over the whole output.
_WORTH_SHOWING = linear(rf"^[^\n]*?(?:{_TALLY}|{_FAILED})[^\n]*", multiline=True)
EXCERPT_LINES = 15


def tidy(command: str) -> str:
    """The command without the `cd <workspace> &&` the agent puts in front of most."""
    command = command.strip()
    found = _CD_WORKSPACE.match(command) if command.startswith("cd /home/runner/work/") else None
    return command[found.end():] if found else command


def is_test(command: str) -> bool:
    """True when some part of a shell command runs a test suite (pytest, npm test, go test…)."""
    return _TEST.search(command) is not None


def _exit_code(output: str) -> int | None:
    """The code in the last `<exited with exit code N>` near the end of a command's output."""
    start = output.rfind(_EXIT_MARK, max(0, len(output) - 200))
    end = output.find(">", start)
    code = output[start + len(_EXIT_MARK):end]
    if start < 0 or end < 0 or not (code.lstrip("-").isdigit() and code.isascii()) or code.count("-") > 1:
        return None
    return int(code)


def outcome(output: str, *, test: bool) -> tuple[int | None, bool, str]:
    """(exit code or None, failed?, excerpt) of a command's output (or the end of it).

    A test run's excerpt is its tally and failing lines; a failed command's is its last lines.
    Without an exit code (async sessions) a test run failed if its output says FAILED, FAIL, Error…
    """
    exit_code = _exit_code(output)
    excerpt = ""
    if test:
        lines = [found.group(0).rstrip("\r") for found in _WORTH_SHOWING.finditer(output)]
        failed = (exit_code or 0) != 0 or (exit_code is None and _FAILED_LINE.search(output) is not None)
        excerpt = "\n".join(lines[-EXCERPT_LINES:])
    else:
        failed = (exit_code or 0) != 0
    if failed and not excerpt:
        excerpt = "\n".join(_EXIT.sub("", output).rstrip().splitlines()[-EXCERPT_LINES:])
    return exit_code, failed, excerpt
