"""GitHub's Agent tasks API (public preview), as GitHub's description of `agent-tasks/*` (the pinned
@octokit/openapi) has it: start a Copilot cloud-agent task in a repository, list a repository's or
the person's tasks, read one with its sessions. The tasks themselves are copilot_tasks.py's.

Who may call, in GitHub's order:
- User tokens only ("GitHub App installation access tokens are not supported for this endpoint").
  GitHub documents no status or message for that refusal; the fake gives its usual refusal of a
  credential kind a route does not take: 403 "Resource not accessible by integration" with the
  route's page, as on `GET /user` (users.py). Chosen, not observed.
- A repository's tasks, or a task by id: where the person and the App share its repository (else
  404), the installation granting "Agent tasks" (`agent_tasks`: read, write to start; else 403, as
  for any permission the App lacks).
- A plan without the API (`fake.agent_tasks.withhold(status, login=… | repo=…)`): 403, 404 or 422,
  the statuses the description documents (starting documents no 404), in the description's words
  for them. `GET /agents/tasks` is refused by the person's plan, and leaves out withheld repositories.
- A model the description does not list: 422 "Validation Failed" (undocumented, chosen).

Every GET carries an ETag and answers 304 to a matching If-None-Match (answering.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.github.permissions import NOT_ACCESSIBLE
from tests import app_manifest

from . import auth
from .answering import REQUIRED
from .copilot_tasks import REPO_TASKS, Task, Tasks, models
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

REPO_TASK = f"{REPO_TASKS}/{{task_id}}"
# The description's words for the refusals a plan without the API gets.
WITHHELD = {403: "Insufficient permissions", 404: "Not Found", 422: "Validation Failed"}


def register(fake: FakeGitHub) -> None:
    """`fake.agent_tasks` (copilot_tasks.Tasks) and the five `agent-tasks/*` routes, user tokens only."""
    tasks = Tasks(fake)
    fake.agent_tasks = tasks

    def login_of(req: Recorded) -> str:
        return fake.users.access[credential_of(req)].login

    def refusal(req: Recorded, method: str, template: str, repo: str) -> Response | None:
        """Why this person may not use `repo`'s tasks by this route, as GitHub answers; None if they may."""
        owner, _, name = repo.partition("/")
        token = fake.users.as_installation(credential_of(req), {"owner": owner, "repo": name})
        if token is None:
            return error(404, "Not Found")  # the person and the App share no such repository
        needs, doc = REQUIRED[(method, template)]
        if not any(app_manifest.covers(fake.installations[token.installation_id]["permissions"], need)
                   for need in needs):
            return error(403, NOT_ACCESSIBLE, doc)
        return plan_refusal(login_of(req), repo)

    def plan_refusal(login: str, repo: str | None = None) -> Response | None:
        status = tasks.withheld.get(("user", login.lower())) or (repo and tasks.withheld.get(("repo", repo.lower())))
        return error(status, WITHHELD[status]) if status else None

    def full_name(params: dict) -> str:
        repository = fake.repositories.get(f"{params['owner']}/{params['repo']}".lower())
        return repository["full_name"] if repository else f"{params['owner']}/{params['repo']}"

    @fake.route("POST", REPO_TASKS, auth="user")
    def start(req: Recorded, params: dict):
        repo = full_name(params)
        body = req.json
        refused = refusal(req, "POST", REPO_TASKS, repo)
        if refused:
            return refused
        if body.get("model") is not None and body["model"] not in models():
            answer = error(422, "Validation Failed")
            answer.body["errors"] = [{"code": "invalid", "message": f"model {body['model']!r} is not available"}]
            return answer
        return 201, tasks.add_task(repo, login_of(req), body["prompt"], model=body.get("model"),
                                   base_ref=body.get("base_ref"), head_ref=body.get("head_ref"),
                                   create_pull_request=bool(body.get("create_pull_request")),
                                   custom_agent=body.get("custom_agent"))

    @fake.route("GET", REPO_TASKS, auth="user")
    def list_for_repository(req: Recorded, params: dict):
        repo = full_name(params)
        creators = {int(v) for name in ("creator_id", "creator_id[]") for v in req.query.get(name, [])}
        return refusal(req, "GET", REPO_TASKS, repo) or listing(req, [
            t for t in tasks.tasks.values()
            if t.repo == repo and (not creators or fake.users.user(t.creator)["id"] in creators)])

    @fake.route("GET", REPO_TASK, auth="user")
    def get_in_repository(req: Recorded, params: dict):
        repo = full_name(params)
        task = tasks.tasks.get(params["task_id"])
        found = (200, tasks.answer(task, sessions=True)) if task and task.repo == repo else error(404, "Not Found")
        return refusal(req, "GET", REPO_TASK, repo) or found

    @fake.route("GET", "/agents/tasks", auth="user")
    def list_mine(req: Recorded, params: dict):
        login = login_of(req)
        return plan_refusal(login) or listing(req, [
            t for t in tasks.tasks.values()
            if t.creator.lower() == login.lower() and not refusal(req, "GET", "/agents/tasks", t.repo)])

    @fake.route("GET", "/agents/tasks/{task_id}", auth="user")
    def get_by_id(req: Recorded, params: dict):
        task = tasks.tasks.get(params["task_id"])
        if task is None:
            return error(404, "Not Found")
        return refusal(req, "GET", "/agents/tasks/{task_id}", task.repo) or (200, tasks.answer(task, sessions=True))

    def listing(req: Recorded, found: list[Task]) -> Response:
        """`found` narrowed by the query (`state`, `is_archived`, `since`), sorted, one page of it."""
        query = {name: values[-1] for name, values in req.query.items()}
        archived = query.get("is_archived") == "true"
        states = set(query["state"].split(",")) if query.get("state") else None
        since = datetime.fromisoformat(query["since"]).timestamp() if query.get("since") else None
        chosen = [t for t in found if (t.archived_at is not None) == archived
                  and (states is None or t.state in states) and (since is None or int(t.updated_at) >= since)]
        key = "created_at" if query.get("sort") == "created_at" else "updated_at"
        chosen.sort(key=lambda t: (getattr(t, key), t.id), reverse=query.get("direction", "desc") == "desc")
        page, headers = fake.paginate(req, [tasks.answer(t) for t in chosen])
        counts = {"total_active_count": sum(t.archived_at is None for t in found),
                  "total_archived_count": sum(t.archived_at is not None for t in found)}
        return Response(200, {"tasks": page, **counts}, headers)


def credential_of(req: Recorded) -> str:
    """The token a request presented (a user token, once the fake has let it through)."""
    return auth.split_authorization(req.headers.get("authorization"))[2]
