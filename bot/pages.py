"""Pages for probes: `/healthz`, `/readyz`, `/metrics` (people's pages are in bot/web/pages.py)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from bot import db, metrics
from bot.runtime import current_runtime

blueprint = Blueprint("pages", __name__)

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
