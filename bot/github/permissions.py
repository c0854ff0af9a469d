"""The permission each route the bot uses needs (what the App asks for is config/app-manifest.yml).

ROUTES is GitHub's documented route → permission map for the routes the bot calls, from
"Permissions required for GitHub Apps" (https://docs.github.com/rest/authentication/permissions-required-for-github-apps)
and each endpoint's "Fine-grained access tokens" section. A route needs *one of* its permission
sets: a pull request's comments are issue comments, so `issues` or `pull_requests` will do.
The Agent tasks routes take a person's user token only, never an installation's; a GitHub App's
user token holds no more than the App's permissions, so they are here too.
The fake GitHub refuses by this map; the bot explains a refusal by it.
"""

from __future__ import annotations

NOT_ACCESSIBLE = "Resource not accessible by integration"  # GitHub's 403 for a permission the token lacks

_REPO = "/repos/{owner}/{repo}"
_TASKS = "/agents/repos/{owner}/{repo}/tasks"
_TASKS_DOCS = "https://docs.github.com/rest/agent-tasks/agent-tasks"
_ISSUE_COMMENTS_READ = (("issues", "read"), ("pull_requests", "read"))
_ISSUE_COMMENTS_WRITE = (("issues", "write"), ("pull_requests", "write"))

# (method, route template, the permission sets any one of which allows it, GitHub's page for it)
ROUTES: tuple[tuple[str, str, tuple[tuple[str, str], ...], str], ...] = (
    ("GET", "/installation/repositories", (),  # any installation token
     "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation"),
    ("GET", _REPO, (("metadata", "read"),),
     "https://docs.github.com/rest/repos/repos#get-a-repository"),
    ("GET", f"{_REPO}/collaborators/{{username}}/permission", (("metadata", "read"),),
     "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user"),
    ("GET", f"{_REPO}/contents/{{path}}", (("contents", "read"),),
     "https://docs.github.com/rest/repos/contents#get-repository-content"),
    ("GET", f"{_REPO}/actions/runs", (("actions", "read"),),
     "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository"),
    ("GET", f"{_REPO}/actions/runs/{{run_id}}", (("actions", "read"),),
     "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run"),
    ("POST", f"{_REPO}/actions/runs/{{run_id}}/cancel", (("actions", "write"),),
     "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run"),
    ("POST", f"{_REPO}/actions/runs/{{run_id}}/force-cancel", (("actions", "write"),),
     "https://docs.github.com/rest/actions/workflow-runs#force-cancel-a-workflow-run"),
    ("GET", f"{_REPO}/actions/runs/{{run_id}}/jobs", (("actions", "read"),),
     "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run"),
    ("GET", f"{_REPO}/actions/runs/{{run_id}}/logs", (("actions", "read"),),
     "https://docs.github.com/rest/actions/workflow-runs#download-workflow-run-logs"),
    ("GET", f"{_REPO}/actions/jobs/{{job_id}}/logs", (("actions", "read"),),
     "https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run"),
    ("GET", f"{_REPO}/pulls", (("pull_requests", "read"),),
     "https://docs.github.com/rest/pulls/pulls#list-pull-requests"),
    ("GET", f"{_REPO}/pulls/{{pull_number}}", (("pull_requests", "read"),),
     "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"),
    ("GET", f"{_REPO}/pulls/{{pull_number}}/commits", (("pull_requests", "read"),),
     "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request"),
    ("GET", f"{_REPO}/issues/{{issue_number}}/timeline", _ISSUE_COMMENTS_READ,
     "https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue"),
    ("GET", f"{_REPO}/issues/{{issue_number}}/comments", _ISSUE_COMMENTS_READ,
     "https://docs.github.com/rest/issues/comments#list-issue-comments"),
    ("POST", f"{_REPO}/issues/{{issue_number}}/comments", _ISSUE_COMMENTS_WRITE,
     "https://docs.github.com/rest/issues/comments#create-an-issue-comment"),
    ("PATCH", f"{_REPO}/issues/comments/{{comment_id}}", _ISSUE_COMMENTS_WRITE,
     "https://docs.github.com/rest/issues/comments#update-an-issue-comment"),
    ("POST", f"{_REPO}/issues/comments/{{comment_id}}/reactions", _ISSUE_COMMENTS_WRITE,
     "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment"),
    ("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (("members", "read"),),
     "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user"),
    # User tokens only (see above).
    ("POST", _TASKS, (("agent_tasks", "write"),), f"{_TASKS_DOCS}#start-a-task"),
    ("GET", _TASKS, (("agent_tasks", "read"),), f"{_TASKS_DOCS}#list-tasks-for-repository"),
    ("GET", f"{_TASKS}/{{task_id}}", (("agent_tasks", "read"),), f"{_TASKS_DOCS}#get-a-task-by-repo"),
    ("GET", "/agents/tasks", (("agent_tasks", "read"),), f"{_TASKS_DOCS}#list-tasks"),
    ("GET", "/agents/tasks/{task_id}", (("agent_tasks", "read"),), f"{_TASKS_DOCS}#get-a-task-by-id"),
)


def route_of(method: str, path: str) -> tuple[str, str, tuple[tuple[str, str], ...], str] | None:
    """The ROUTES row for a request (`path` may carry a base path such as /api/v3), or None."""
    segments = path.split("?", 1)[0].strip("/").split("/")
    for row in ROUTES:
        if row[0] == method.upper() and _ends_with(segments, row[1]):
            return row
    return None


def _ends_with(segments: list[str], template: str) -> bool:
    """Whether a path's last segments are `template`'s, each `{name}` standing for one non-empty segment."""
    wanted = template.strip("/").split("/")
    if len(segments) < len(wanted):
        return False
    tail = segments[len(segments) - len(wanted):]
    return all(have and (want == have or (want.startswith("{") and want.endswith("}")))
               for want, have in zip(wanted, tail))


def needed(method: str, path: str) -> tuple[tuple[str, str], ...] | None:
    """The permission sets any one of which allows the request; None for a route not in ROUTES."""
    row = route_of(method, path)
    return row[2] if row else None


def describe(needs: tuple[tuple[str, str], ...]) -> str:
    """`actions: write`, or `issues: write` or `pull_requests: write`."""
    return " or ".join(f"`{name}: {level}`" for name, level in needs)


def settings_url(installation_id: int, account_login: str | None, account_type: str | None) -> str:
    """Where an owner reviews and grants the installation's permissions."""
    if account_type == "Organization" and account_login:
        return f"https://github.com/organizations/{account_login}/settings/installations/{installation_id}"
    return f"https://github.com/settings/installations/{installation_id}"
