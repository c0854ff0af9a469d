"""Settings from the environment (and a `.env` file), checked once at startup.

Names follow Probot's where Probot has one, so an operator can move an App over unchanged.
`flask --app app check` (bot/cli/check.py) checks a deployment; `make run` calls it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.config_parse import (
    ConfigError,
    boolean,
    database_url,
    http_url,
    log_format,
    log_level,
    name_list,
    private_key,
    read_dotenv,
    retention_days,
    admin_token,
    secret_keys,
    seconds,
    seconds_or_off,
    url_path,
    whole_number,
)

DEFAULT_DATABASE_URL = "sqlite:///instance/bot.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Every knob of the bot. Durations are in seconds so tests can shrink them."""

    app_id: int | None = None
    app_slug: str | None = None  # the App's URL name (github.com/apps/<slug>): the home page's install link
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
    stop_confirm_period: float = 300.0  # after a stopped run ended: how long Copilot's finish may take to show
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
    watchdog_interval: float = 60.0  # 0: no watchdog (stuck sessions are not flagged)
    insights_interval: float = 300.0  # 0: stored summaries are not classified (bot/handlers/insights.py)
    task_refresh_interval: float = 60.0  # 0: Copilot tasks are not followed with people's kept tokens
    # The Agents page (bot/web/): GitHub's web host for sign-in, the App's OAuth client, and keys.
    github_url: str = "https://github.com"
    github_client_id: str | None = None
    github_client_secret: str | None = field(default=None, repr=False)
    secret_keys: tuple[str, ...] = field(default=(), repr=False)  # newest first; older ones still decrypt
    admin_token: str | None = field(default=None, repr=False)
    web_session_idle: float = 8 * 3600.0  # a sign-in unused this long ends (and its token is deleted)
    user_token_idle: float = 30 * 86400.0  # a token kept beyond the browser session, unused this long: deleted
    user_access_cache_ttl: float = 60.0  # which repositories a person can see, as GitHub last said
    public_url: str | None = None  # where people reach the bot (its session pages); None: not linked

    @property
    def sign_in(self) -> bool:
        """GitHub sign-in is configured: the App's OAuth client and a key to protect what it keeps."""
        return bool(self.github_client_id and self.github_client_secret and self.secret_keys)

    @property
    def setup_mode(self) -> bool:
        """No App settings at all: serve the setup page and refuse webhooks."""
        return self.app_id is None and self.private_key is None and not self.webhook_secrets


# (environment variable, Settings field, parser). The README's configuration table mirrors this.
SIMPLE = [
    ("APP_SLUG", "app_slug", lambda n, t: t.strip()),
    ("WEBHOOK_PATH", "webhook_path", url_path),
    ("DATABASE_URL", "database_url", database_url),
    ("PORT", "port", lambda n, t: whole_number(n, t, 1)),
    ("LOG_LEVEL", "log_level", log_level),
    ("LOG_FORMAT", "log_format", log_format),
    ("AUTO_MIGRATE", "auto_migrate", boolean),
    ("BOT_INLINE_WORKERS", "inline_workers", boolean),
    ("BOT_WORKER_THREADS", "worker_threads", lambda n, t: whole_number(n, t, 1)),
    ("JOB_LEASE_SECONDS", "job_lease", seconds),
    ("JOB_RETRY_BASE_SECONDS", "job_retry_base", seconds),
    ("JOB_MAX_ATTEMPTS", "job_max_attempts", lambda n, t: whole_number(n, t, 1)),
    ("JOB_POLL_SECONDS", "job_poll_interval", seconds),
    ("GITHUB_RETRIES", "github_retries", whole_number),
    ("GITHUB_CONNECT_TIMEOUT_SECONDS", "github_connect_timeout", seconds),
    ("GITHUB_READ_TIMEOUT_SECONDS", "github_read_timeout", seconds),
    ("GITHUB_WRITE_INTERVAL_SECONDS", "github_write_interval", seconds),
    ("GITHUB_AMBIGUOUS_WAIT_SECONDS", "github_ambiguous_wait", seconds),
    ("STOP_GRACE_SECONDS", "stop_grace_period", seconds),
    ("STOP_CONFIRM_SECONDS", "stop_confirm_period", seconds),
    ("STATUS_COMMENT_INTERVAL_SECONDS", "status_comment_interval", seconds),
    ("TIMELINE_COALESCE_SECONDS", "timeline_coalesce", seconds),
    ("PERMISSION_CACHE_SECONDS", "permission_cache_ttl", seconds),
    ("REPO_CONFIG_CACHE_SECONDS", "config_cache_ttl", seconds),
    ("COMMAND_RATE_LIMIT", "command_rate_limit", lambda n, t: whole_number(n, t, 1)),
    ("LOG_SUMMARY_BUDGET_SECONDS", "log_summary_budget", seconds),
    ("SESSION_WORKFLOW_PATH_PREFIXES", "session_path_prefixes", name_list),
    ("COPILOT_LOGINS", "copilot_logins", name_list),
    ("BACKFILL_DAYS", "backfill_days", whole_number),
    ("BACKFILL_MAX_RUNS", "backfill_max_runs", whole_number),
    ("BACKFILL_API_BUDGET", "backfill_api_budget", whole_number),
    ("REDELIVERY_INTERVAL_SECONDS", "redelivery_interval", seconds_or_off),
    ("REDELIVERY_MAX_PER_RUN", "redelivery_max_per_run", lambda n, t: whole_number(n, t, 1)),
    ("REDELIVERY_MAX_ATTEMPTS", "redelivery_max_attempts", lambda n, t: whole_number(n, t, 1)),
    ("RETENTION_DAYS", "retention_days", retention_days),
    ("WATCHDOG_INTERVAL_SECONDS", "watchdog_interval", seconds_or_off),
    ("INSIGHTS_INTERVAL_SECONDS", "insights_interval", seconds_or_off),
    ("TASK_REFRESH_SECONDS", "task_refresh_interval", seconds_or_off),
    ("GITHUB_URL", "github_url", http_url),
    ("GITHUB_CLIENT_ID", "github_client_id", lambda n, t: t.strip()),
    ("GITHUB_CLIENT_SECRET", "github_client_secret", lambda n, t: t.strip()),
    ("SECRET_KEY", "secret_keys", secret_keys),
    ("ADMIN_TOKEN", "admin_token", admin_token),
    ("WEB_SESSION_IDLE_SECONDS", "web_session_idle", seconds),
    ("USER_TOKEN_IDLE_SECONDS", "user_token_idle", seconds),
    ("USER_ACCESS_CACHE_SECONDS", "user_access_cache_ttl", seconds),
    ("PUBLIC_URL", "public_url", http_url),
]


def _github_api_url(env: dict[str, str]) -> str:
    if env.get("GITHUB_API_URL"):
        return http_url("GITHUB_API_URL", env["GITHUB_API_URL"])
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
        values["app_id"] = whole_number("APP_ID", env["APP_ID"], 1)
    values["private_key"] = private_key(env)
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
    if bool(settings.github_client_id) != bool(settings.github_client_secret):
        missing = "GITHUB_CLIENT_SECRET" if settings.github_client_id else "GITHUB_CLIENT_ID"
        raise ConfigError(f"{missing} is not set; sign-in needs both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET")
    if settings.github_client_id and not settings.secret_keys:
        raise ConfigError("SECRET_KEY is not set; sign-in (GITHUB_CLIENT_ID) needs it to sign cookies and "
                          "encrypt the tokens it keeps")
    return settings


def describe(settings: Settings) -> dict[str, object]:
    """Settings safe to print or log: secrets replaced by whether they are set."""
    shown: dict[str, object] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name in ("private_key", "webhook_secrets", "github_client_secret", "secret_keys", "admin_token"):
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
