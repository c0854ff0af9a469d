"""The process's shared parts, built once from Settings: database, queue, GitHub client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot import db, metrics
from bot.caches.etags import DatabaseETagStore
from bot.caches.permissions import PermissionCache
from bot.caches.repo_configs import ConfigCache

if TYPE_CHECKING:
    from bot.github.client import GitHub
from bot.config import ConfigError, Settings
from bot.jobs import Queue


@dataclass
class Runtime:
    """What handlers and jobs need from the process; passed explicitly, never a global."""

    settings: Settings
    engine: Engine
    queue: Queue
    github: "GitHub | None"  # None in setup mode: no App credentials yet
    # bot/caches/: in the database, so any process's warm cache serves any job.
    permissions: PermissionCache
    repo_configs: ConfigCache
    etags: DatabaseETagStore  # the one ETag store: conditional GETs of every process share it

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Create the engine, queue and GitHub client; opens no connection yet."""
    engine = db.make_engine(settings.database_url)
    queue = Queue(engine, lease=settings.job_lease, retry_base=settings.job_retry_base,
                  max_attempts=settings.job_max_attempts)
    github = None
    if not settings.setup_mode:
        from bot.github.auth import AppAuth
        from bot.github.client import GitHub

        try:
            auth = AppAuth(settings.app_id, settings.private_key)
        except ValueError as exc:
            raise ConfigError(f"PRIVATE_KEY cannot be used: {exc}") from None
        github = GitHub(
            settings.github_api_url,
            auth,
            connect_timeout=settings.github_connect_timeout,
            read_timeout=settings.github_read_timeout,
            retries=settings.github_retries,
            retry_base=settings.job_retry_base,
            on_response=metrics.github_response,
            write_interval=settings.github_write_interval,
            ambiguous_wait=settings.github_ambiguous_wait,
        )
    etags = DatabaseETagStore(engine)
    return Runtime(settings=settings, engine=engine, queue=queue, github=github,
                   permissions=PermissionCache(engine, settings.permission_cache_ttl),
                   repo_configs=ConfigCache(engine, etags, settings.config_cache_ttl), etags=etags)


def database_problem(settings: Settings) -> str | None:
    """Why the database cannot be used (one line naming DATABASE_URL), or None when it answers.

    Asked once at startup by gunicorn's master and by `python -m bot.worker`, so a database that is
    down stops them with one line instead of a traceback from every worker they would start."""
    from sqlalchemy import text

    from bot.config import describe

    engine = None
    try:
        engine = db.make_engine(settings.database_url)  # (makes a SQLite file's folder: that can fail too)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # whatever the driver raises, the line names it
        cause = getattr(exc, "orig", None) or exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return f"DATABASE_URL {describe(settings)['database_url']} cannot be used: {reason}"
    finally:
        if engine is not None:
            engine.dispose()
    return None


def current_runtime() -> Runtime:
    """The Runtime of the Flask app handling this request or CLI command."""
    from flask import current_app

    return current_app.extensions["session_bot"]
