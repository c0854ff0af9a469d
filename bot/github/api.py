"""The GitHub calls the bot makes, one small typed function each: the only place REST paths are spelled.

Each takes a `Client` (bot/github/client.py: retries, ETags, pacing, no auth across hosts) and
returns GitHub's answer as GitHub sends it; none knows what a session or a command is. `repo` is
always "owner/name". bot/github/permissions.py holds the permission each of these routes needs.
"""

from __future__ import annotations

import tempfile
from typing import Any, Callable, Iterator

from bot.github.client import Client, ETagStore
from bot.github.errors import GitHubError

TIMELINE_PAGE = 100
# GitHub's repository roles (`role_name`), most access first; a custom role's legacy `permission` is
# one of admin, write, read, none.
ROLES = ("admin", "maintain", "write", "triage", "read", "none")

# -- comments and reactions --------------------------------------------------------------------


def react(client: Client, repo: str, comment_id: int, content: str) -> None:
    """Add a reaction (`eyes`, `+1`, …) to an issue or pull-request comment."""
    client.post(f"/repos/{repo}/issues/comments/{comment_id}/reactions", json={"content": content})


def post_comment(client: Client, repo: str, number: int, body: str) -> int:
    """Comment on issue or pull request `number`; the new comment's id."""
    return client.post(f"/repos/{repo}/issues/{number}/comments", json={"body": body})["id"]


def edit_comment(client: Client, repo: str, comment_id: int, body: str) -> None:
    """Replace the body of a comment."""
    client.patch(f"/repos/{repo}/issues/comments/{comment_id}", json={"body": body})


def comments(client: Client, repo: str, number: int) -> Iterator[dict]:
    """Every comment on issue or pull request `number`, oldest first."""
    return client.paginate(f"/repos/{repo}/issues/{number}/comments")


# -- workflow runs and their logs ----------------------------------------------------------------


def workflow_run(client: Client, repo: str, run_id: int) -> dict:
    """One workflow run."""
    return client.get(f"/repos/{repo}/actions/runs/{run_id}")


def cancel_run(client: Client, repo: str, run_id: int, *, force: bool = False) -> bool:
    """Cancel (or force-cancel) a run; False when GitHub says it can no longer be (409: it finished)."""
    try:
        client.post(f"/repos/{repo}/actions/runs/{run_id}/{'force-cancel' if force else 'cancel'}")
    except GitHubError as exc:
        if exc.status != 409:
            raise
        return False
    return True


def run_pages(client: Client, repo: str, params: dict, before_each: Callable[[], None]) -> Iterator[list[dict]]:
    """The repository's workflow runs matching `params`, a page at a time, newest first;
    `before_each()` is called before each page is asked for (a budget can stop it by raising)."""
    url: str | None = f"/repos/{repo}/actions/runs"
    query: dict | None = {"per_page": 100, **params}
    while url:
        before_each()
        resp = client.request("GET", url, params=query)
        yield resp.json()["workflow_runs"]
        url, query = resp.links.get("next", {}).get("url"), None  # the next link carries the query


def run_jobs(client: Client, repo: str, run_id: int) -> Iterator[dict]:
    """Every job of a run, of every attempt (`filter=all`), with its `started_at` and `completed_at`."""
    return client.paginate(f"/repos/{repo}/actions/runs/{run_id}/jobs", params={"filter": "all"}, item_key="jobs")


def download_run_logs(client: Client, repo: str, run_id: int) -> tempfile.SpooledTemporaryFile:
    """The zip of a run's logs (see Client.download); GitHubError 404 or BlobMissing while it runs."""
    return client.download(f"/repos/{repo}/actions/runs/{run_id}/logs")


# -- pull requests, contents, timelines ------------------------------------------------------------


def pull_request(client: Client, repo: str, number: int) -> dict:
    """One pull request."""
    return client.get(f"/repos/{repo}/pulls/{number}")


def pull_requests_from(client: Client, repo: str, branch: str) -> list[dict]:
    """Pull requests (open or not) whose head is `branch` of the repository's owner (forks' share names)."""
    owner = repo.split("/", 1)[0]
    return client.get(f"/repos/{repo}/pulls", params={"head": f"{owner}:{branch}", "state": "all"})


def pull_commits(client: Client, repo: str, number: int) -> Iterator[dict]:
    """The commits of a pull request, oldest first."""
    return client.paginate(f"/repos/{repo}/pulls/{number}/commits")


def file_contents(client: Client, repo: str, path: str, etags: ETagStore) -> Any:
    """The contents API's answer for `path` on the default branch (conditional: a 304 when unchanged)."""
    return client.get_conditional(f"/repos/{repo}/contents/{path}", store=etags)[0]


def timeline(client: Client, repo: str, number: int, etags: ETagStore,
             before_each: Callable[[], None] = lambda: None) -> list[dict]:
    """Every event of an issue's timeline, page by page with ETags: an unchanged page costs a 304;
    `before_each()` is called before each page."""
    events, page = [], 1
    while True:
        before_each()
        body, _ = client.get_conditional(f"/repos/{repo}/issues/{number}/timeline", store=etags,
                                         params={"per_page": TIMELINE_PAGE, "page": page})
        events += body
        if len(body) < TIMELINE_PAGE:
            return events
        page += 1


# -- repositories, people, teams --------------------------------------------------------------------


def repository(client: Client, repo: str) -> dict:
    """One repository (its id, visibility, …)."""
    return client.get(f"/repos/{repo}")


def collaborator_permission(client: Client, repo: str, login: str) -> dict:
    """`login`'s permission on the repository (`permission` and `role_name`)."""
    return client.get(f"/repos/{repo}/collaborators/{login}/permission")


def repository_role(client: Client, repo: str, login: str) -> str:
    """`login`'s role on the repository: one of ROLES (a custom role by its legacy `permission`)."""
    answer = collaborator_permission(client, repo, login)
    return answer.get("role_name") if answer.get("role_name") in ROLES else answer.get("permission") or "none"


def team_membership(client: Client, org: str, team_slug: str, login: str) -> dict | None:
    """`login`'s membership of a team, or None when they are not in it (404)."""
    try:
        return client.get(f"/orgs/{org}/teams/{team_slug}/memberships/{login}")
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise


# -- the App and its installations (App clients: JWT) ---------------------------------------------------


def authenticated_app(app_client: Client) -> dict:
    """`GET /app`: the App the JWT speaks for (its name, slug and owner); 401 for a key it does not know."""
    return app_client.get("/app")


def installation(app_client: Client, installation_id: int) -> dict:
    """One installation of the App; GitHubError 404 once it is uninstalled."""
    return app_client.get(f"/app/installations/{installation_id}")


def installation_repositories(client: Client) -> Iterator[dict]:
    """Every repository the installation (the client's) covers."""
    return client.paginate("/installation/repositories", item_key="repositories")


def hook_deliveries(app_client: Client) -> Iterator[dict]:
    """The App's webhook deliveries, newest first."""
    return app_client.paginate("/app/hook/deliveries")


def redeliver(app_client: Client, hook_delivery_id: int) -> None:
    """Ask GitHub to deliver a webhook delivery again."""
    app_client.post(f"/app/hook/deliveries/{hook_delivery_id}/attempts")


# -- a person, with their user access token (user clients: GitHub.user) ------------------------------
# These need no App permission (any user token), so bot/github/permissions.py, which maps the
# installation-token routes, does not list them.


def authenticated_user(user_client: Client) -> dict:
    """The person the user token belongs to (`login`, `id`, …)."""
    return user_client.get("/user")


def user_installations(user_client: Client) -> Iterator[dict]:
    """The App's installations the person has explicit access to (a user token sees only its App's)."""
    return user_client.paginate("/user/installations", item_key="installations")


def user_installation_repositories(user_client: Client, installation_id: int) -> Iterator[dict]:
    """The repositories of one of those installations that the person can access."""
    return user_client.paginate(f"/user/installations/{int(installation_id)}/repositories", item_key="repositories")


# -- Copilot tasks, with a person's user token (user clients only) ------------------------------------
# GitHub's Agent tasks API (public preview) takes no installation token, and a person's token of this
# App holds no more than the App's `agent_tasks` permission (bot/github/permissions.py lists these
# routes for that). A plan or organisation without the API answers 403, 404 or 422: a GitHubError,
# told apart from the App lacking the permission (a MissingPermission, 403 "Resource not accessible by
# integration") by its type. Conditional reads take an ETagStore scoped to the person (ScopedETags):
# GitHub answers each token with that person's view.

# A task's (and a session's) states, as GitHub's description lists them.
TASK_STATES = ("queued", "in_progress", "completed", "failed", "idle", "waiting_for_user", "timed_out", "cancelled")
# The models GitHub's description lists for a new task ("may change over time and depend on the user's
# GitHub Copilot plan and organization policies"), in its order.
TASK_MODELS = ("claude-sonnet-4.6", "claude-opus-4.6", "gpt-5.2-codex", "gpt-5.3-codex", "gpt-5.4",
               "claude-sonnet-4.5", "claude-opus-4.5")
TASKS_PAGE = 100


def start_task(user_client: Client, repo: str, prompt: str, *, model: str | None = None,
               custom_agent: str | None = None, create_pull_request: bool = False, base_ref: str | None = None,
               head_ref: str | None = None) -> dict:
    """Start a Copilot task in the repository, as the person (`POST /agents/repos/{owner}/{repo}/tasks`);
    GitHub's task: `id`, `state` (queued), `html_url`, `artifacts` (none yet). With `head_ref` and
    `base_ref` the agent commits to `head_ref` (an open pull request's branch) instead of a new one.

    A POST is never repeated in-call: a TransientError marked ambiguous may have started the task,
    and GitHub has no idempotency key, so look at the person's tasks before starting it again."""
    body: dict[str, Any] = {"prompt": prompt, "create_pull_request": create_pull_request}
    for name, value in (("model", model), ("custom_agent", custom_agent), ("base_ref", base_ref),
                        ("head_ref", head_ref)):
        if value is not None:
            body[name] = value
    return user_client.post(f"/agents/repos/{repo}/tasks", json=body)


def repository_tasks(user_client: Client, repo: str, *, state: str | None = None, since: str | None = None,
                     creator_id: int | None = None) -> Iterator[dict]:
    """The repository's tasks (not archived), most recently updated first; `state` a comma-separated
    list of TASK_STATES, `since` an ISO 8601 time (updated at or after), `creator_id` a person's id."""
    params = {name: value for name, value in (("state", state), ("since", since), ("creator_id", creator_id))
              if value is not None}
    return user_client.paginate(f"/agents/repos/{repo}/tasks", params=params, item_key="tasks")


def repository_task(user_client: Client, repo: str, task_id: str) -> dict:
    """One task of the repository, with its `sessions`."""
    return user_client.get(f"/agents/repos/{repo}/tasks/{task_id}")


def person_tasks(user_client: Client, etags: ETagStore, *, state: str | None = None,
                 before_each: Callable[[], None] = lambda: None) -> tuple[list[dict], bool]:
    """The person's tasks across repositories (not archived), most recently updated first, page by
    page with ETags; and whether any page changed (False: every page was a 304, which costs no rate
    limit). `state` as for repository_tasks; `before_each()` is called before each page."""
    tasks, changed, page = [], False, 1
    while True:
        before_each()
        params = {"per_page": TASKS_PAGE, "page": page, **({"state": state} if state else {})}
        body, fresh = user_client.get_conditional("/agents/tasks", store=etags, params=params)
        tasks += body["tasks"]
        changed = changed or fresh
        if len(body["tasks"]) < TASKS_PAGE:
            return tasks, changed
        page += 1


def task(user_client: Client, task_id: str, etags: ETagStore) -> tuple[dict, bool]:
    """One task with its `sessions` (each with `state`, `model` and `usage`: {`type`: "ai_credits" in
    nano units | "premium_requests", `amount`}), conditionally: (the task, whether it changed)."""
    return user_client.get_conditional(f"/agents/tasks/{task_id}", store=etags)
