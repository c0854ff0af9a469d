"""Per-repository settings from `.github/session-bot.yml` on the default branch.

Only the default branch is read — never a pull request's head, which its author controls. The
file is fetched with the contents API and an ETag, so an unchanged file costs a 304; what it says,
or that there is none, is kept for every process by bot/caches/repo_configs.py. A file that does
not parse gets the defaults and one explanatory comment (per version of the file).

    prefix: /session          # the command word, if /session collides with another bot
    stop:
      allow: write            # write (default): write access or the session's starter;
      users: [alice]          # listed: only these users and teams (and the starter)
      teams: [octo-org/leads]
    status_comment: true
    summary: normal           # normal | full (what `/session log` shows without --full)
    stuck:                    # the watchdog flags a session queued or running longer than this
      queued_minutes: 15
      running_minutes: 60     # GitHub's own cap on a session
    auto_stop_after_minutes:  # off (default); N: cancel a session still running after N minutes
    summary_on_finish: false  # true: fold the log summary into the status comment when a session ends
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import yaml

from bot.github import api
from bot.github.errors import GitHubError
from bot.inert import code_span, one_line
from bot.patterns import linear

PATH = ".github/session-bot.yml"
# A real file is a few lines; PyYAML reads pure Python, about a second a megabyte, so a file past
# this is refused unread rather than let a repository spend a worker's time on it.
MAX_CHARS = 64 * 1024
# libyaml's safe loader: C, and it refuses nesting past 1,000 levels at once (PyYAML's own loader
# recurses until Python's limit, which takes a second and more).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_MINUTES = 7 * 24 * 60  # a week: longer than any session runs
_PREFIX = linear(r"^/[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class RepoConfig:
    """What a repository may change about the bot's behaviour there."""

    prefix: str = "/session"
    stop_allow: str = "write"  # "write" or "listed"
    stop_users: tuple[str, ...] = ()
    stop_teams: tuple[str, ...] = ()
    status_comment: bool = True
    summary: str = "normal"
    stuck_queued_minutes: int = 15
    stuck_running_minutes: int = 60  # GitHub's own cap on a session's time
    auto_stop_after_minutes: int | None = None  # None: never stop a session for its time
    summary_on_finish: bool = False


class ConfigProblem(ValueError):
    """The file is there but does not say something the bot understands."""


def read_config(text: str) -> RepoConfig:
    """The config a file's text describes; ConfigProblem (with the reason) if it is invalid."""
    if len(text) > MAX_CHARS:
        raise ConfigProblem(f"it is {len(text):,} characters long; a settings file this bot reads is at most "
                            f"{MAX_CHARS:,}")
    try:
        data = yaml.load(text, Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "")):  # libyaml stops at 1,000 levels
            raise ConfigProblem("it nests values too deeply to read") from None
        raise ConfigProblem(f"it is not valid YAML ({one_line(str(exc).splitlines()[0], 200)})") from None
    except UnicodeError:  # libyaml takes UTF-8 only: a lone surrogate cannot be encoded
        raise ConfigProblem("it is not valid UTF-8 text") from None
    except RecursionError:  # values are built recursively, even by libyaml's loader
        raise ConfigProblem("it nests values too deeply to read") from None
    if not isinstance(data, dict):
        raise ConfigProblem("it should be a mapping of settings")
    unknown = set(data) - {"prefix", "stop", "status_comment", "summary", "stuck", "auto_stop_after_minutes",
                           "summary_on_finish"}
    if unknown:
        names = sorted(str(name)[:50] for name in unknown)
        listed = ", ".join(code_span(name) for name in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise ConfigProblem(f"unknown setting(s): {listed}")
    values: dict = {}
    if "prefix" in data:
        if not isinstance(data["prefix"], str) or not _PREFIX.match(data["prefix"]):
            raise ConfigProblem("`prefix` must look like /session: a slash and a lower-case word")
        values["prefix"] = data["prefix"]
    if "stop" in data:
        stop = data["stop"]
        if not isinstance(stop, dict) or set(stop) - {"allow", "users", "teams"}:
            raise ConfigProblem("`stop` takes `allow`, `users` and `teams`")
        allow = stop.get("allow", "write")
        if allow not in ("write", "listed"):
            raise ConfigProblem("`stop.allow` must be `write` or `listed`")
        values.update(stop_allow=allow, stop_users=_names(stop.get("users"), "stop.users"),
                      stop_teams=_names(stop.get("teams"), "stop.teams"))
        if any("/" not in team for team in values["stop_teams"]):
            raise ConfigProblem("`stop.teams` entries look like org/team-slug")
    for flag in ("status_comment", "summary_on_finish"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ConfigProblem(f"`{flag}` must be true or false")
            values[flag] = data[flag]
    if "stuck" in data:
        stuck = data["stuck"]
        if not isinstance(stuck, dict) or set(stuck) - {"queued_minutes", "running_minutes"}:
            raise ConfigProblem("`stuck` takes `queued_minutes` and `running_minutes`")
        for key in ("queued_minutes", "running_minutes"):
            if key in stuck:
                values[f"stuck_{key}"] = _minutes(stuck[key], f"stuck.{key}")
    if data.get("auto_stop_after_minutes") is not None:
        values["auto_stop_after_minutes"] = _minutes(data["auto_stop_after_minutes"], "auto_stop_after_minutes")
    if "summary" in data:
        if data["summary"] not in ("normal", "full"):
            raise ConfigProblem("`summary` must be normal or full")
        values["summary"] = data["summary"]
    return RepoConfig(**values)


def _minutes(value, setting: str) -> int:
    # bool is an int to Python; `true` is not a number of minutes.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise ConfigProblem(f"`{setting}` must be a whole number of minutes from 1 to {MAX_MINUTES:,}")
    return value


def _names(value, setting: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigProblem(f"`{setting}` must be a list of names")
    return tuple(value)


def fetch(client, store, repository: str) -> tuple[RepoConfig, str | None, str | None]:
    """(config, problem, file sha) for "owner/name"; defaults when there is no file."""
    try:
        content = api.file_contents(client, repository, PATH, store)
    except GitHubError as exc:
        if exc.status == 404:
            return RepoConfig(), None, None
        raise
    if not isinstance(content, dict) or content.get("type") != "file":
        return RepoConfig(), f"`{PATH}` is not a file", None
    try:
        text = base64.b64decode(content.get("content") or "").decode("utf-8")
        return read_config(text), None, content.get("sha")
    except ConfigProblem as exc:  # its text is inert markdown already
        return RepoConfig(), str(exc), content.get("sha")
    except ValueError as exc:  # not base64, not UTF-8
        return RepoConfig(), one_line(f"it cannot be read: {exc}", 300), content.get("sha")
