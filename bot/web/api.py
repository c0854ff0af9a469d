"""The Agents page's JSON API: `GET /api/sessions`, `GET /api/sessions/{id}`, `POST /api/sessions/{id}/stop`,
`POST /api/tasks` (a Copilot task started as the signed-in person) and `GET /api/tasks/{id}`.

docs/openapi.yaml describes it. What it shows is bot/web/listing.py's, narrowed to the request's
viewer (bot/web/access.py); a session the viewer may not see answers 404 like one that does not
exist. GET answers carry an ETag, and `If-None-Match` with it gets 304 with no body: the page polls
every few seconds. Errors are JSON with a `message`; pages follow GitHub's `Link: <…>; rel="next"`.
"""

from __future__ import annotations

import hashlib
import json
import time

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.commands import stop_requests
from bot.runtime import current_runtime
from bot.web import access, new_task, task_view
from bot.web.listing import BadFilter, Detail, Filters, Listing, Row, detail, find_session, load_listing, row_of
from bot.web.task_view import TaskInfo
from bot.web.viewer import Viewer

blueprint = Blueprint("api", __name__, url_prefix="/api")

_MAX_ID = 2**63 - 1  # the largest id either database keeps; anything past it names no session
MAX_STOP_BODY = 16 * 1024  # a stop's JSON body: a reason is kept to 300 characters
MAX_TASK_BODY = 128 * 1024  # a new task's JSON body: a prompt of PROMPT_LIMIT characters, escaped


class ApiError(Exception):
    """An answer other than 2xx: its status and the message the JSON says."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    return jsonify(message=error.message), error.status


@blueprint.errorhandler(BadFilter)
def _bad_filter(error: BadFilter) -> tuple[Response, int]:
    return jsonify(message=error.message), 400


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """Werkzeug's errors (a CSRF refusal, GitHub unreachable for sign-in, …) as JSON too."""
    response = jsonify(message=error.description or error.name)
    response.status_code = error.code or 500
    return response


@blueprint.get("/sessions")
def list_sessions():
    """The sessions the viewer may see, newest first, one page per request."""
    viewer = _viewer()
    listing = load_listing(current_runtime(), viewer, Filters.parse(request.args))
    response = _conditional(listing_json(listing), listing.version)
    if listing.next_query:
        response.headers["Link"] = f'<{request.base_url}?{listing.next_query}>; rel="next"'
    return response


@blueprint.get("/sessions/<session_id>")
def show_session(session_id: str):
    """One session: its row, timeline and log summary."""
    found = detail(current_runtime(), _viewer(), _id(session_id))
    if found is None:
        raise ApiError(404, "Not Found")
    return _conditional(detail_json(found), found.version)


@blueprint.post("/sessions/<session_id>/stop")
def stop_session(session_id: str):
    """Ask for the session's run to be cancelled, as `/session stop` does, with an optional `reason`
    in a JSON body; 202 with the session."""
    runtime, viewer = current_runtime(), _viewer()
    found = find_session(runtime, viewer, _id(session_id))
    if found is None:
        raise ApiError(404, "Not Found")
    reason = _reason()
    try:
        stop_requests.request_stop(runtime, found, login=viewer.login, via="page", reason=reason)
    except stop_requests.StopRefused as refused:
        raise ApiError(403, str(refused)) from None
    except stop_requests.AlreadyFinished as finished:
        raise ApiError(409, str(finished)) from None
    response = jsonify(detail_json(detail(runtime, viewer, found.id)))
    response.status_code = 202
    return response


@blueprint.post("/tasks")
def start_task():
    """Start a Copilot task as the signed-in person, with their own token (a JSON body: `repository`,
    `prompt`, optional `base_ref` and `model`, as the page's New task); 201 with the task, queued."""
    runtime, viewer = current_runtime(), _viewer()
    body = _json_body(MAX_TASK_BODY, '{"repository": "octo-org/app", "prompt": "Fix the flaky test"}')
    try:
        row = new_task.start(runtime, viewer, new_task.parse(body or {}), access.user_token)
    except new_task.Refused as refused:
        said = f" GitHub said: “{refused.said}”" if refused.said else ""
        raise ApiError(refused.status, refused.message + said) from None
    response = jsonify(dict(task_json(task_view.info(row)), sessions=[]))
    response.status_code = 201
    response.headers["Location"] = f"{request.host_url.rstrip('/')}{request.script_root}/api/tasks/{row.id}"
    return response


@blueprint.get("/tasks/<task_id>")
def show_task(task_id: str):
    """One Copilot task, with the sessions it joins by its artifacts."""
    runtime = current_runtime()
    found = task_view.find_task(runtime, _viewer(), task_id)
    if found is None:
        raise ApiError(404, "Not Found")
    task, sessions = found
    body = dict(task_json(task), sessions=[row_json(row_of(s, runtime.settings.github_url)) for s in sessions])
    return _conditional(body, hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32])


def listing_json(listing: Listing) -> dict:
    """A page of the list as the API shows it (docs/openapi.yaml: SessionList)."""
    return {
        "total_count": listing.total, "total_count_more": listing.total_more,
        "counts": [{"state": c.state, "label": c.label, "count": c.count, "more": c.more} for c in listing.counts],
        "sessions": [row_json(row) for row in listing.rows],
        "next_cursor": listing.next_cursor,
        "repositories": list(listing.repositories),
    }


def row_json(row: Row) -> dict:
    """One session of the list (docs/openapi.yaml: Session)."""
    pull = None if row.pr_number is None else {"number": row.pr_number, "title": row.pr_title, "html_url": row.pr_url}
    return {
        "id": row.id, "repository": row.repository, "pull_request": pull, "number": row.number,
        "state": row.state, "state_label": row.label, "running": row.running, "conclusion": row.conclusion,
        "starter": row.starter, "created_at": _iso(row.created_at), "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at), "run_attempt": row.run_attempt, "run_url": row.run_url,
        "stuck": row.stuck, "stuck_label": row.stuck_label, "stuck_at": _iso(row.stuck_at),
        "tasks": [task_json(task) for task in row.tasks],
        "html_url": request.host_url.rstrip("/") + request.script_root + row.page_path,
        "url": f"{request.host_url.rstrip('/')}{request.script_root}/api/sessions/{row.id}",
    }


def task_json(task: TaskInfo) -> dict:
    """A Copilot task as GitHub last said (docs/openapi.yaml: Task): usage per unit, never added together."""
    root = request.host_url.rstrip("/") + request.script_root
    return {
        "id": task.id, "repository": task.repository, "state": task.state, "state_label": task.label,
        "model": task.model, "name": task.name, "creator": task.creator, "created_at": _iso(task.created_at),
        "checked_at": _iso(task.checked_at), "summary": task.summary, "github_url": task.html_url,
        "usage": {"ai_credits": task.ai_credits, "ai_credits_nano": task.ai_credits_nano,
                  "premium_requests": task.premium_requests},
        "html_url": root + task.page_path, "url": f"{root}/api/tasks/{task.id}",
    }


def detail_json(found: Detail) -> dict:
    """One session with its timeline and log summary (docs/openapi.yaml: SessionDetail)."""
    return {
        **row_json(found.row),
        "timeline": [{"kind": e.kind, "at": _iso(e.at), "text": e.text, "who": e.who, "sha": e.sha, "via": e.via,
                      "outcome": e.outcome, "reason": e.reason} for e in found.timeline],
        "log_html": None if found.log_html is None else str(found.log_html),
        "log_note": found.log_note,
        "can_stop": found.can_stop,
        "stop_advice": None if found.stop_advice is None else dict(zip(("headline", "advice"), found.stop_advice)),
    }


def _reason() -> str | None:
    """The stop's `reason` from the request's JSON body, if it has one (no body: no reason)."""
    body = _json_body(MAX_STOP_BODY, '{"reason": "no longer needed"}')
    if body is None:
        return None
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(400, "`reason` must be a string.")
    return reason


def _json_body(limit: int, example: str) -> dict | None:
    """The request's JSON object, at most `limit` bytes (larger: 413, before anything is read); None
    when there is no body."""
    request.max_content_length = limit
    if not request.get_data(cache=True):
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, f"The body must be a JSON object (Content-Type: application/json), such as {example}.")
    return body


def _viewer() -> Viewer:
    viewer = access.current_viewer()
    if viewer is None:
        raise ApiError(401, "Sign in with GitHub, or send Authorization: Bearer <ADMIN_TOKEN>.")
    return viewer


def _id(text: str) -> int:
    """A session id from the path; one that cannot be an id names no session (404, not 400)."""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 0 < int(text) <= _MAX_ID:
        raise ApiError(404, "Not Found")
    return int(text)


def _conditional(body: dict, version: str) -> Response:
    """`body` as JSON with its ETag, or 304 with no body when the request's If-None-Match has it."""
    response = jsonify(body)
    response.set_etag(version)
    # The answer depends on who asks: shared caches keep none, the browser asks again each time.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Authorization", "Cookie"))
    return response.make_conditional(request)


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
