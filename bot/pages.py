"""Pages for probes: `/healthz`, `/readyz`, `/metrics` (people's pages are in bot/web/pages.py), and
what every page answers while the database is gone."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot import db, logging_config, metrics
from bot.runtime import current_runtime

blueprint = Blueprint("pages", __name__)
UNAVAILABLE = "The database is not answering; try again in a minute."
_database = logging_config.Outage(logging.getLogger("bot.pages"), "the database, answering a page")


def install(app: Flask) -> None:
    """These routes, and a short 503 from any page (JSON under /api/) while the database is gone:
    one log line per outage, not a traceback per request."""
    app.register_blueprint(blueprint)
    app.register_error_handler(DBAPIError, _database_gone)

    @app.after_request
    def _database_back(response):
        if response.status_code < 500:
            _database.succeeded()
        return response


def _database_gone(exc: DBAPIError):
    _database.failed(exc)
    if request.path.startswith("/api/"):
        return jsonify(message=UNAVAILABLE), 503
    return Response(UNAVAILABLE + "\n", 503, mimetype="text/plain", headers={"Retry-After": "60"})


@blueprint.get("/healthz")
def healthz():
    """The process is alive and answering."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is the newest migration."""
    runtime = current_runtime()
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = db.current_revision(runtime.engine), db.head_revision()
    except Exception as exc:
        return jsonify(status="unavailable", reason=f"database: {type(exc).__name__}"), 503
    if current != head:
        return jsonify(status="unavailable", reason=f"migrations: at {current}, expected {head}"), 503
    return jsonify(status="ok", migration=current, setup_mode=runtime.settings.setup_mode)


@blueprint.get("/metrics")
def metrics_page():
    return Response(metrics.exposition(current_runtime().engine), mimetype="text/plain; version=0.0.4")
