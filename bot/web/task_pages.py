"""The Agents page's Copilot tasks: `/tasks/new` (the New task form), `POST /tasks` (start it), and
`/tasks/<id>` (a task: its state, model, usage and the sessions it joins).

A plain form with the CSRF token, complete without JavaScript. The start uses the signed-in person's
own token (bot/web/new_task.py); the task shows as queued at once, and joins its pull request and
run once a refresh with the person's kept token reads its artifacts.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from bot.github.api import TASK_MODELS
from bot.runtime import current_runtime
from bot.sessions import queries
from bot.web import listing, new_task, task_view
from bot.web.access import accounts, current_viewer, user_token
from bot.web.pages import error, page

blueprint = Blueprint("tasks", __name__, template_folder="templates")

TASK_NOT_FOUND = (404, "Task not found", "There is no such task, or it belongs to a repository you cannot access.")


@blueprint.get("/tasks/new")
def new_task_form():
    """The New task form, for a signed-in person."""
    viewer = current_viewer()
    if viewer is None:
        return page("signin_needed.html", active="sessions")
    return _form(viewer, {}, None)


@blueprint.post("/tasks")
def start_task():
    """Start the task the form asks for, then show it (queued); a refusal shows the form again, saying why."""
    viewer = current_viewer()
    if viewer is None:
        return error(403, "Cannot start a task", "Sign in with GitHub to start a task.")
    try:
        wanted = new_task.parse(request.form)
        row = new_task.start(current_runtime(), viewer, wanted, user_token)
    except new_task.Refused as refused:
        return _form(viewer, request.form, refused, status=refused.status)
    if request.form.get("keep") and viewer.user_id is not None:
        accounts().keep_token(viewer.user_id, True)  # the person's choice, so the bot can follow the task
    return redirect(url_for(".task_page", task_id=row.id, started=1), 303)


@blueprint.get("/tasks/<task_id>")
def task_page(task_id: str):
    """One task: its state, model and usage as GitHub last said, and the sessions it joins."""
    viewer = current_viewer()
    if viewer is None:
        return page("signin_needed.html", active="sessions")
    runtime = current_runtime()
    found = task_view.find_task(runtime, viewer, task_id)
    if found is None:
        return error(*TASK_NOT_FOUND)
    task, sessions = found
    rows = [listing.row_of(s, runtime.settings.github_url) for s in sessions]
    kept = viewer.user_id is not None and accounts().token_kept(viewer.user_id)
    return page("task.html", active="sessions", task=task, sessions=rows, kept=kept,
                started=request.args.get("started") == "1")


def _form(viewer, values, refused: new_task.Refused | None, status: int = 200):
    with current_runtime().engine.connect() as conn:
        names = queries.repository_names(conn, viewer.repository_ids)
    kept = viewer.user_id is not None and accounts().token_kept(viewer.user_id)
    return page("new_task.html", status, active="sessions", repositories=names, models=TASK_MODELS,
                values=values, refused=refused, kept=kept)
