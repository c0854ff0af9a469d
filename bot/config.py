"""Settings from the environment (and a `.env` file), checked once at startup.

Names follow Probot's where Probot has one, so an operator can move an App over unchanged.
`python -m bot.config check` validates the settings and prints one line; `make run` calls it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///instance/bot.sqlite3"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the bot. Durations are in seconds so tests can shrink them."""

    app_id: int | None = None
    private_key: str | None = field(default=None, repr=False)
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    webhook_path: str = "/api/github/webhooks"
    github_api_url: str = "https://api.github.com"
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "json"
    auto_migrate: bool = True
    inline_workers: bool = True
    worker_threads: int = 2
    job_lease: float = 30.0
    job_retry_base: float = 1.0
    job_max_attempts: int = 8
    job_poll_interval: float = 1.0
    github_retries: int = 3
    github_connect_timeout: float = 5.0
    github_read_timeout: float = 30.0
    github_write_interval: float = 1.0
    github_ambiguous_wait: float = 10.0
    stop_grace_period: float = 60.0
    status_comment_interval: float = 10.0
    timeline_coalesce: float = 5.0
    permission_cache_ttl: float = 60.0
    config_cache_ttl: float = 60.0
    command_rate_limit: int = 10
    log_summary_budget: float = 60.0
    session_path_prefixes: tuple[str, ...] = ("dynamic/copilot-swe-agent/",)
    copilot_logins: tuple[str, ...] = ("Copilot", "copilot-swe-agent[bot]")
    backfill_days: int = 30
    backfill_max_runs: int = 100
    backfill_api_budget: int = 500
    redelivery_interval: float = 300.0  # 0: no periodic recovery of missed deliveries
    redelivery_max_per_run: int = 50
    redelivery_max_attempts: int = 3
    retention_days: int = 14  # 0: keep everything

    @property
    def setup_mode(self) -> bool:
        """No App settings at all: serve the setup page and refuse webhooks."""
        return self.app_id is None and self.private_key is None and not self.webhook_secrets


# (environment variable, Settings field, parser). The README's configuration table mirrors this.
def _int(name: str, text: str, minimum: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {text!r}")
    return value


def _seconds_or_off(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds (0 turns it off), got {text!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must be 0 (off) or more, got {text!r}")
    return value


def _retention_days(name: str, text: str) -> int:
    value = _int(name, text)
    # Pruning a delivery GitHub still lists as failed would let recovery redeliver it (3-day window).
    if 0 < value < 3:
        raise ConfigError(f"{name} must be 0 (keep everything) or at least 3, the days GitHub keeps "
                          f"deliveries, got {value}")
    return value


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {text!r}")


def _names(name: str, text: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise ConfigError(f"{name} must be a comma-separated list, got {text!r}")
    return values


def _choice(*allowed: str):
    def parse(name: str, text: str) -> str:
        value = text.strip().lower()
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {text!r}")
        return value

    return parse


def _log_level(name: str, text: str) -> str:
    return _choice("debug", "info", "warning", "error", "critical")(name, text).upper()


def _log_format(name: str, text: str) -> str:
    value = _choice("json", "text", "pretty")(name, text)
    return "text" if value == "pretty" else value


def _path(name: str, text: str) -> str:
    if not text.startswith("/"):
        raise ConfigError(f"{name} must start with '/', got {text!r}")
    return text


def _url(name: str, text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {text!r}")
    return text.rstrip("/")


def _database_url(name: str, text: str) -> str:
    if text.startswith("postgres://"):  # Heroku-style spelling
        text = "postgresql://" + text[len("postgres://"):]
    if text.startswith("postgresql://"):
        return "postgresql+psycopg://" + text[len("postgresql://"):]
    if text.startswith(("sqlite:///", "postgresql+psycopg://")):
        return text
    raise ConfigError(f"{name} must be sqlite:///path or postgresql://…, got {text.split('@')[-1]!r}")


SIMPLE = [
    ("WEBHOOK_PATH", "webhook_path", _path),
    ("DATABASE_URL", "database_url", _database_url),
    ("PORT", "port", lambda n, t: _int(n, t, 1)),
    ("LOG_LEVEL", "log_level", _log_level),
    ("LOG_FORMAT", "log_format", _log_format),
    ("AUTO_MIGRATE", "auto_migrate", _bool),
    ("BOT_INLINE_WORKERS", "inline_workers", _bool),
    ("BOT_WORKER_THREADS", "worker_threads", lambda n, t: _int(n, t, 1)),
    ("JOB_LEASE_SECONDS", "job_lease", _seconds),
    ("JOB_RETRY_BASE_SECONDS", "job_retry_base", _seconds),
    ("JOB_MAX_ATTEMPTS", "job_max_attempts", lambda n, t: _int(n, t, 1)),
    ("JOB_POLL_SECONDS", "job_poll_interval", _seconds),
    ("GITHUB_RETRIES", "github_retries", _int),
    ("GITHUB_CONNECT_TIMEOUT_SECONDS", "github_connect_timeout", _seconds),
    ("GITHUB_READ_TIMEOUT_SECONDS", "github_read_timeout", _seconds),
    ("GITHUB_WRITE_INTERVAL_SECONDS", "github_write_interval", _seconds),
    ("GITHUB_AMBIGUOUS_WAIT_SECONDS", "github_ambiguous_wait", _seconds),
    ("STOP_GRACE_SECONDS", "stop_grace_period", _seconds),
    ("STATUS_COMMENT_INTERVAL_SECONDS", "status_comment_interval", _seconds),
    ("TIMELINE_COALESCE_SECONDS", "timeline_coalesce", _seconds),
    ("PERMISSION_CACHE_SECONDS", "permission_cache_ttl", _seconds),
    ("REPO_CONFIG_CACHE_SECONDS", "config_cache_ttl", _seconds),
    ("COMMAND_RATE_LIMIT", "command_rate_limit", lambda n, t: _int(n, t, 1)),
    ("LOG_SUMMARY_BUDGET_SECONDS", "log_summary_budget", _seconds),
    ("SESSION_WORKFLOW_PATH_PREFIXES", "session_path_prefixes", _names),
    ("COPILOT_LOGINS", "copilot_logins", _names),
    ("BACKFILL_DAYS", "backfill_days", _int),
    ("BACKFILL_MAX_RUNS", "backfill_max_runs", _int),
    ("BACKFILL_API_BUDGET", "backfill_api_budget", _int),
    ("REDELIVERY_INTERVAL_SECONDS", "redelivery_interval", _seconds_or_off),
    ("REDELIVERY_MAX_PER_RUN", "redelivery_max_per_run", lambda n, t: _int(n, t, 1)),
    ("REDELIVERY_MAX_ATTEMPTS", "redelivery_max_attempts", lambda n, t: _int(n, t, 1)),
    ("RETENTION_DAYS", "retention_days", _retention_days),
]


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (optionally `export`ed, quoted, with # comments)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def _private_key(env: dict[str, str]) -> str | None:
    text = env.get("PRIVATE_KEY", "").strip()
    key_path = env.get("PRIVATE_KEY_PATH", "").strip()
    if text and key_path:
        raise ConfigError("set PRIVATE_KEY or PRIVATE_KEY_PATH, not both")
    if key_path:
        try:
            text = Path(key_path).read_text()
        except OSError as exc:
            raise ConfigError(f"PRIVATE_KEY_PATH cannot be read: {exc.strerror} ({key_path})") from None
        name = "PRIVATE_KEY_PATH"
    else:
        name = "PRIVATE_KEY"
    if not text:
        return None
    # .env files and dashboards often hold the PEM on one line with literal \n.
    text = text.replace("\\n", "\n").strip() + "\n"
    if not (text.startswith("-----BEGIN") and "PRIVATE KEY-----" in text):
        raise ConfigError(f"{name} is not a PEM private key (it should start with -----BEGIN RSA PRIVATE KEY-----)")
    return text


def _github_api_url(env: dict[str, str]) -> str:
    if env.get("GITHUB_API_URL"):
        return _url("GITHUB_API_URL", env["GITHUB_API_URL"])
    host = env.get("GHE_HOST", "").strip()
    if host:
        if "/" in host:
            raise ConfigError(f"GHE_HOST must be a host name like github.example.com, got {host!r}")
        protocol = env.get("GHE_PROTOCOL", "https").strip()
        return f"{protocol}://{host}/api/v3"
    return Settings.github_api_url


def load_settings(environ: dict[str, str] | None = None, *, dotenv: Path | None = Path(".env")) -> Settings:
    """Build Settings from the environment; a `.env` file fills what the environment lacks."""
    env = dict(os.environ if environ is None else environ)
    if dotenv is not None and dotenv.is_file():
        for key, value in read_dotenv(dotenv).items():
            env.setdefault(key, value)
    env = {key: value for key, value in env.items() if value != ""}

    values: dict[str, object] = {}
    for var, attr, parse in SIMPLE:
        if var in env:
            values[attr] = parse(var, env[var])

    if "APP_ID" in env:
        values["app_id"] = _int("APP_ID", env["APP_ID"], 1)
    values["private_key"] = _private_key(env)
    secrets = tuple(s.strip() for s in env.get("WEBHOOK_SECRET", "").split(",") if s.strip())
    values["webhook_secrets"] = secrets
    values["github_api_url"] = _github_api_url(env)

    settings = Settings(**values)
    if not settings.setup_mode:
        for var, present in (
            ("APP_ID", settings.app_id is not None),
            ("PRIVATE_KEY", settings.private_key is not None),
            ("WEBHOOK_SECRET", bool(settings.webhook_secrets)),
        ):
            if not present:
                hint = " (or PRIVATE_KEY_PATH)" if var == "PRIVATE_KEY" else ""
                raise ConfigError(f"{var}{hint} is not set; the other GitHub App settings are")
    return settings


def describe(settings: Settings) -> dict[str, object]:
    """Settings safe to print or log: secrets replaced by whether they are set."""
    shown: dict[str, object] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in ("private_key", "webhook_secrets"):
            value = "set" if value else "not set"
        elif f.name == "database_url":
            value = _hide_password(value)
        shown[f.name] = value
    return shown


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def main(argv: list[str]) -> int:
    """`python -m bot.config check`: one line, exit 1 on bad settings."""
    if argv[1:] != ["check"]:
        print("usage: python -m bot.config check", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"session-bot: configuration error: {exc}", file=sys.stderr)
        return 1
    mode = "setup mode (no GitHub App settings yet)" if settings.setup_mode else f"GitHub App {settings.app_id}"
    print(f"session-bot: configuration ok: {mode}, database {_hide_password(settings.database_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
