"""Why a session failed, as pure functions: what its stored log summary says, its state, and a hint.

`log_cause(summary)` reads a kept summary (bot/logs/summary.py) and names what went wrong in the
log, or None when the log shows nothing wrong; it is computed once per summary and kept
(bot/sessions/insights.py). `cause(state, log_cause, auto_stopped)` then names each failure:

- `setup`: setting up or installing dependencies failed (the last install the agent ran failed and
  nothing it checked afterwards passed, a setup step failed, or the agent said the firewall blocked it);
- `tests`: the last test run or build the agent ran failed;
- `timed_out`: the run timed out, the bot stopped it for its time (`auto_stop_after_minutes`), or
  the stream ended on a time limit;
- `cancelled`: a person cancelled it (a stop from a comment, the Agents page, or GitHub itself);
- `github`: the agent's stream ended on an error of GitHub's own (an error object, a model that
  stopped early) before the agent finished;
- `unknown`: it failed and the kept summary says nothing of why, or no summary is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from bot.logs.summary import ShellCommand, Summary
from bot.patterns import linear

CAUSES = ("setup", "tests", "timed_out", "cancelled", "github", "unknown")
LABELS = {"setup": "setup or dependency install failed", "tests": "tests or build failed at the end",
          "timed_out": "timed out", "cancelled": "cancelled by a person", "github": "a GitHub error",
          "unknown": "unknown"}
FAILED_STATES = ("failed", "cancelled", "timed_out")
AUTO_STOP = "auto-stop"  # the reason the watchdog gives the stops it makes (session_stops.reason)

SETUP_STEPS_PATH = ".github/workflows/copilot-setup-steps.yml"
# GitHub's page on customising the agent's environment, at its section on installing dependencies.
SETUP_STEPS_DOCS = ("https://docs.github.com/en/copilot/how-tos/copilot-on-github/customize-copilot/"
                    "customize-cloud-agent/customize-the-agent-environment"
                    "#preinstalling-tools-or-dependencies-in-copilots-environment")

# A command segment (what follows the start, `&&`, `||`, `;`, `|` or a newline), after env
# assignments and sudo, that installs dependencies, or that builds: one search over the command.
_SEGMENT = r"(?:\A|&&|\|\||[;|\n])\s*(?:\w+=\S*\s+)*(?:sudo\s+(?:-\S+\s+)*)?(?:python[\d.]*\s+-m\s+)?(?:\S*/)?"
_INSTALL = linear(
    _SEGMENT + r"(?:pip[\d.]*\s+install|uv\s+(?:pip\s+install|sync|add)|(?:poetry|pdm)\s+(?:install|sync|add)"
    r"|pipenv\s+(?:install|sync)|(?:npm|pnpm|bun)\s+(?:ci|install|i|add)|yarn\s+(?:install|add)"
    r"|(?:bundle|gem|brew)\s+install|go\s+(?:mod\s+(?:download|tidy)|get)|cargo\s+(?:fetch|install)"
    r"|composer\s+(?:install|require|update)|dotnet\s+restore|apt(?:-get)?\s+(?:-\S+\s+)*install"
    r"|conda\s+(?:install|env\s+(?:create|update))|mvn\b[^;&|\n]*\bdependency:|gradlew?\b[^;&|\n]*\bdependencies)"
    r"(?:[\s;&|]|$)")
_BUILD = linear(
    _SEGMENT + r"(?:(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?build[\w:-]*|make|cargo\s+(?:build|check)|go\s+(?:build|vet)"
    r"|tsc|dotnet\s+build|mvn\b[^;&|\n]*\b(?:compile|package|verify|install)|gradlew?\b[^;&|\n]*\b(?:build|assemble)"
    r"|build|cmake\s+--build|ninja|msbuild)(?:[\s;&|]|$)")
# What the agent writes in its pull request when its firewall refused an address (installs, mostly).
_FIREWALL = linear(r"(?i)firewall rules blocked|blocked by (?:the )?firewall")
_TIME_LIMIT = linear(r"(?i)timed out|time ?limit|timeout")


def log_cause(summary: Summary) -> str | None:
    """What went wrong in the log a summary was made from (`setup`, `tests`, `timed_out`, `github`), or None."""
    if not summary.finished:
        ours = [e for e in summary.errors.head + summary.errors.tail if not _from_a_tool(e, summary.tools)]
        if ours:
            return "timed_out" if _TIME_LIMIT.search(ours[-1]) else "github"
    setup_broken = any(e.startswith("run_setup:") for e in summary.errors.head + summary.errors.tail)
    last_check_failed = None
    for command in summary.commands.head + summary.commands.tail:
        # A command that installs, then tests (`npm ci && npm test`), is taken for the test run it meant.
        if _is_check(command):
            last_check_failed = command.failed
            if not command.failed:
                setup_broken = False  # something it checked passed: what it needed was there
        elif _INSTALL.search(command.command):
            setup_broken = command.failed
    if setup_broken:
        return "setup"
    if last_check_failed:
        return "tests"
    if _FIREWALL.search(summary.pr_description) or _FIREWALL.search(summary.final_message):
        return "setup"
    return None


def _from_a_tool(error: str, tools: Mapping[str, int]) -> bool:
    """Whether a summary's error line is a tool's failure (`name: output`) rather than the stream's own."""
    name, colon, _ = error.partition(":")
    return bool(colon) and name in tools


def _is_check(command: ShellCommand) -> bool:
    return command.test or _BUILD.search(command.command) is not None


def cause(state: str, found_in_log: str | None, *, auto_stopped: bool = False) -> str | None:
    """Why a session in `state` failed (one of CAUSES), or None when it did not fail (completed, or
    not finished yet). `found_in_log` is `log_cause` of its summary (None without one); `auto_stopped`:
    the bot cancelled it for running too long."""
    if state == "timed_out":
        return "timed_out"
    if state == "cancelled":
        return "timed_out" if auto_stopped else "cancelled"
    if state == "failed":
        return found_in_log or "unknown"
    return None


@dataclass(frozen=True)
class Hint:
    """Advice on a repository's failures: plain text, and the page that says how."""

    text: str
    url: str


def hint(counts: Mapping[str, int], has_setup_steps: bool | None) -> Hint | None:
    """Advice when most of a repository's failures (`counts` per cause) die in setup: whether it has
    SETUP_STEPS_PATH (None: not known yet) says which. None when no advice applies."""
    failures = sum(counts.values())
    if not failures or counts.get("setup", 0) * 2 <= failures:
        return None
    most = f"{counts['setup']} of {failures} failed sessions died setting up or installing dependencies"
    if has_setup_steps is False:
        return Hint(f"{most}, and the repository has no {SETUP_STEPS_PATH}: install them there, before the agent "
                    "starts.", SETUP_STEPS_DOCS)
    if has_setup_steps:
        return Hint(f"{most}, though the repository has {SETUP_STEPS_PATH}: check that its steps install "
                    "everything the agent needs.", SETUP_STEPS_DOCS)
    return Hint(f"{most}: a {SETUP_STEPS_PATH} can install them before the agent starts.", SETUP_STEPS_DOCS)


def top(counts: Mapping[str, int], limit: int = 3) -> list[tuple[str, int]]:
    """The most common causes, most first (ties in CAUSES order), at most `limit`."""
    ranked = sorted(((c, n) for c, n in counts.items() if n), key=lambda item: (-item[1], CAUSES.index(item[0])))
    return ranked[:limit]


def tally(pairs: Iterable[tuple[str | None, int]]) -> dict[str, int]:
    """Counts per cause from (cause, count) pairs; None (not a failure) is left out."""
    found: dict[str, int] = {}
    for name, n in pairs:
        if name is not None:
            found[name] = found.get(name, 0) + n
    return found
