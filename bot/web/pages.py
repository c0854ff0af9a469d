"""The Agents page's HTML: `/`, `/sessions` (the list), `/sessions/<id>` (one session) and its Stop form (with a reason).

Server-rendered and complete without JavaScript; `static/sessions.js` only keeps a list current and
durations live. What a page shows comes from the index (bot/web/listing.py), narrowed to what the
viewer may see; outside text reaches the templates as plain values and Jinja escapes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import quote, urlencode

from flask import Blueprint, redirect, render_template, request, url_for

from bot.commands import stop_requests
from bot.config import Settings
from bot.runtime import current_runtime
from bot.web import headers, listing, look, task_view
from bot.web.access import at_this_machine, current_viewer

blueprint = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static")
blueprint.after_app_request(headers.secure)
look.register(blueprint)


@dataclass(frozen=True)
class StopResult:
    """What became of a Stop, shown on the session page."""

    outcome: str
    message: str
    error: bool = False


# After the redirect, `?stop=<outcome>` picks one of these fixed messages: nothing from the URL is shown.
STOP_RESULTS = {
    "requested": StopResult("requested", "Stop requested: the run is being cancelled. The pull request's "
                                         "status comment will say when it has stopped."),
    "finished": StopResult("finished", "This session had already finished; there was nothing to stop."),
}


def page(template: str, status: int = 200, **values):
    """Render a page with what the layout needs: the viewer and whether sign-in is configured."""
    settings = current_runtime().settings
    return render_template(template, viewer=current_viewer(), sign_in=settings.sign_in, settings=settings,
                           signin_url=signin_url(), **values), status


def signin_url() -> str:
    """Sign-in, coming back to this page afterwards."""
    here = request.full_path.removesuffix("?")
    return "/signin?" + urlencode({"next": here}, safe="/?", quote_via=quote)


def install_url(settings: Settings) -> str | None:
    """The App's install page, when its URL name (APP_SLUG) is set."""
    if not settings.app_slug:
        return None
    return f"{settings.github_url}/apps/{quote(settings.app_slug, safe='')}/installations/new"


def error(status: int, heading: str, message: str):
    """An error page; the message is ours, never text from the request."""
    return page("error.html", status, active="sessions", heading=heading, message=message)


# What the row <template> holds before the script fills it for a session that appears on an open page.
BLANK_ROW = SimpleNamespace(id=0, state="queued", label="queued", running=True, repository="", pr_number=None,
                            pr_title=None, starter=None, created_at=None, started_at=None, finished_at=None,
                            run_url=None, pr_url=None, page_path="", tasks=(), duration=lambda now: None)

NOT_FOUND = (404, "Session not found", "There is no such session, or it belongs to a repository you cannot access.")


@blueprint.get("/")
def home():
    """What the app is, whether it is configured, the install link, the way to the sessions."""
    runtime = current_runtime()
    settings = runtime.settings
    counts = {} if settings.setup_mode else runtime.queue.counts()
    return page("home.html", active="home", jobs=counts, install_url=install_url(settings),
                at_this_machine=at_this_machine())


@blueprint.get("/sessions")
def sessions_page():
    """The sessions the viewer may see, newest first, filtered by the URL's query."""
    viewer = current_viewer()
    if viewer is None:
        return page("signin_needed.html", active="sessions")
    try:
        filters = listing.Filters.parse(request.args)
    except listing.BadFilter as bad:
        return error(400, "Cannot show these sessions", bad.message)
    runtime = current_runtime()
    found = listing.load_listing(runtime, viewer, filters)
    waiting = task_view.waiting(runtime, viewer, now=time.time())

    def link(changed) -> str:
        """The list with other filters: `changed` is a Filters."""
        query = changed.query_string()
        return url_for(".sessions_page") + (f"?{query}" if query else "")

    return page("sessions.html", active="sessions", filters=filters, listing=found, link=link, blank_row=BLANK_ROW,
                waiting_tasks=waiting)


@blueprint.get("/sessions/<int:session_id>")
def session_page(session_id: int):
    """One session: timeline, log summary, and Stop for those allowed (the outcome of one just sent)."""
    viewer = current_viewer()
    if viewer is None:
        return page("signin_needed.html", active="sessions")
    found = listing.detail(current_runtime(), viewer, session_id)
    if found is None:
        return error(*NOT_FOUND)
    return page("session.html", active="sessions", detail=found,
                stop_result=STOP_RESULTS.get(request.args.get("stop", "")), stop_reasons=stop_requests.REASONS)


@blueprint.post("/sessions/<int:session_id>/stop")
def stop(session_id: int):
    """Stop a session as `/session stop` would (same rule, same audit record), then show its page."""
    viewer = current_viewer()
    if viewer is None:
        return error(403, "Cannot stop this session", "Sign in with GitHub to stop a session.")
    runtime = current_runtime()
    found = listing.find_session(runtime, viewer, session_id)
    if found is None:
        return error(*NOT_FOUND)
    reason = stop_requests.reason_from(request.form.get("reason_choice"), request.form.get("reason"))
    try:
        stop_requests.request_stop(runtime, found, login=viewer.login, via="page", reason=reason)
    except stop_requests.StopRefused as refused:
        result = StopResult("refused", str(refused), error=True)
        return page("session.html", 403, active="sessions", detail=listing.detail(runtime, viewer, session_id),
                    stop_result=result, stop_reasons=stop_requests.REASONS)
    except stop_requests.AlreadyFinished:
        outcome = "finished"
    else:
        outcome = "requested"
    return redirect(url_for(".session_page", session_id=session_id, stop=outcome), 303)
