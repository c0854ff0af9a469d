"""Assemble the web application: Flask pages, the webhook intake in front, the CLI, the workers."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import OperationalError

from bot import cli, db, events, logging_config, pages
from bot import handlers  # noqa: F401  (registers every handler: the intake asks them which deliveries need a job)
from bot.config import ConfigError, Settings, describe, load_settings
from bot.runtime import Runtime, build_runtime
from bot.web import api, insights, registration, signin, task_pages  # noqa: F401  (insights: `/insights`, on the pages' blueprint)
from bot.web import pages as web_pages
from bot.webhooks import Intake

EXTENSION = "session_bot"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app. Migrates the database (unless AUTO_MIGRATE=0); starts no threads."""
    settings = settings or load_settings()
    logging_config.configure(settings.log_level, settings.log_format)
    runtime = build_runtime(settings)
    if settings.auto_migrate:
        try:
            db.upgrade(runtime.engine)
        except OperationalError as exc:
            raise ConfigError(f"DATABASE_URL {describe(settings)['database_url']} cannot be used: "
                              f"{str(exc.orig).strip().splitlines()[0]}") from None
    app = Flask("bot", static_folder=None)  # static files are bot/web/static/, served by its blueprint
    app.extensions[EXTENSION] = runtime
    pages.install(app)  # probes, and a short 503 from every page while the database is gone
    app.register_blueprint(api.blueprint)
    app.register_blueprint(web_pages.blueprint)  # `/`, `/sessions`; security headers on every response
    app.register_blueprint(task_pages.blueprint)  # `/tasks/new`, `/tasks/<id>`: Copilot tasks
    signin.install(app)  # sign-in routes, the session cookie's keys (from SECRET_KEY), CSRF checks
    app.register_blueprint(registration.blueprint)  # setup mode's one-click registration (the manifest flow)
    cli.register(app)
    # The intake answers the webhook path before Flask routes anything: the hot path stays lean.
    # It asks the handler registry (complete: `bot.handlers` is imported above) which deliveries need a job.
    app.wsgi_app = Intake(runtime, app.wsgi_app, triage=events.triage)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions[EXTENSION]


def start_workers(app: Flask):
    """Start in-process job workers when the settings ask for them; returns the pool or None."""
    from bot.worker import WorkerPool

    runtime = runtime_of(app)
    if runtime.settings.setup_mode or not runtime.settings.inline_workers:
        return None
    pool = WorkerPool(runtime, runtime.settings.worker_threads).start()
    app.extensions[EXTENSION + ".workers"] = pool
    return pool


def stop_workers(app: Flask, timeout: float = 25.0) -> None:
    """Let running jobs finish (or release them) before the process exits."""
    pool = app.extensions.pop(EXTENSION + ".workers", None)
    if pool is not None:
        pool.stop(timeout)
