"""Routes for Actions runs, pull requests and their timelines, with helpers for tests to add them.

`copilot_work_*` timeline events are not in GitHub's OpenAPI description (its `timeline-issue-events`
schema lists no such event). They still pass the fake's response check honestly: several of that
schema's branches (`state-change-issue-event` among them) are generic issue events whose `event` is
any string, and these events have exactly that shape (id, node_id, url, actor, event, commit_id,
commit_url, created_at, performed_via_github_app).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import TYPE_CHECKING

from . import objects
from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

COPILOT_PATH = "dynamic/copilot-swe-agent/copilot"
_BOTS = {"Copilot", "copilot-swe-agent[bot]"}


def iso(seconds: float) -> str:
    """GitHub's time format for unix seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def user(login: str, api_url: str) -> dict:
    """A `simple-user`; the agent's accounts are bots, as GitHub shows them."""
    return objects.account(login, api_url, type="Bot" if login in _BOTS or login.endswith("[bot]") else "User")


class ActionsState:
    """Runs, pull requests and timelines the fake serves, per lower-case repository full name."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.runs: dict[str, dict[int, dict]] = {}
        self.pulls: dict[str, dict[int, dict]] = {}
        self.timelines: dict[tuple[str, int], list[dict]] = {}
        self._event_ids = itertools.count(9_000_000_001)

    def _repo(self, full_name: str) -> dict:
        repo = self.fake.repositories.get(full_name.lower())
        if repo is None:
            raise KeyError(f"add an installation with {full_name} before adding its runs")
        return repo

    def add_run(self, full_name: str, run_id: int, *, status: str = "completed", conclusion: str | None = "success",
                path: str = COPILOT_PATH, event: str = "dynamic", head_branch: str = "copilot/fix-1",
                pull_requests: list[int] = (), created_at: float | None = None, updated_at: float | None = None,
                run_started_at: float | None = None, run_attempt: int = 1, actor: str = "Copilot",
                triggering_actor: str = "Copilot", name: str = "Copilot cloud agent") -> dict:
        """Add (or replace) a workflow run as `GET …/actions/runs/{run_id}` returns it."""
        repo = self._repo(full_name)
        api = self.fake.url
        created = created_at if created_at is not None else time.time()
        run = objects._rehome(spec().example("workflow-run"), api, **{"octocat/Hello-World": repo["full_name"]})
        sha = hashlib.sha1(f"{full_name}{run_id}".encode()).hexdigest()
        minimal = {k: run["repository"][k] for k in run["repository"]} | {
            "id": repo["id"], "node_id": repo["node_id"], "name": repo["name"], "full_name": repo["full_name"],
            "owner": repo["owner"], "private": repo["private"], "html_url": repo["html_url"], "url": repo["url"]}
        base = f"{api}/repos/{repo['full_name']}/actions/runs/{run_id}"
        run.update(
            id=run_id, node_id=objects.node_id("WorkflowRun", run_id), name=name, display_title=name,
            path=path, event=event, status=status, conclusion=conclusion if status == "completed" else None,
            head_branch=head_branch, head_sha=sha, run_attempt=run_attempt, run_number=run_id % 1000,
            workflow_id=objects.stable_id("workflow", full_name, path), referenced_workflows=[],
            created_at=iso(created), updated_at=iso(updated_at if updated_at is not None else created),
            run_started_at=iso(run_started_at if run_started_at is not None else created),
            actor=user(actor, api), triggering_actor=user(triggering_actor, api),
            repository=minimal, head_repository=minimal, url=base,
            html_url=f"https://github.com/{repo['full_name']}/actions/runs/{run_id}",
            jobs_url=f"{base}/jobs", logs_url=f"{base}/logs", artifacts_url=f"{base}/artifacts",
            cancel_url=f"{base}/cancel", rerun_url=f"{base}/rerun", previous_attempt_url=None,
            pull_requests=[self._minimal_pull(repo, n, head_branch) for n in pull_requests])
        run["head_commit"].update(id=sha, tree_id=sha)
        self.runs.setdefault(full_name.lower(), {})[run_id] = run
        return run

    def _minimal_pull(self, repo: dict, number: int, head_branch: str) -> dict:
        short = {"id": repo["id"], "url": repo["url"], "name": repo["name"]}
        return {"id": objects.stable_id("pull", repo["full_name"], str(number)), "number": number,
                "url": f"{repo['url']}/pulls/{number}",
                "head": {"ref": head_branch, "sha": hashlib.sha1(head_branch.encode()).hexdigest(), "repo": short},
                "base": {"ref": "main", "sha": hashlib.sha1(b"main").hexdigest(), "repo": short}}

    def add_pull(self, full_name: str, number: int, *, author: str = "Copilot", head_branch: str = "copilot/fix-1",
                 title: str = "[WIP] Fix the flaky test", draft: bool = True, state: str = "open",
                 assignees: list[str] = ("monalisa",), created_at: float | None = None) -> dict:
        """Add (or replace) a pull request as `GET …/pulls/{pull_number}` returns it."""
        repo = self._repo(full_name)
        api = self.fake.url
        pull = objects._rehome(spec().example("pull-request"), api,
                               **{"octocat/Hello-World": repo["full_name"], "/1347": f"/{number}"})
        when = iso(created_at if created_at is not None else time.time())
        people = [user(login, api) for login in assignees]
        pull.update(
            id=objects.stable_id("pull", repo["full_name"], str(number)), number=number, title=title, draft=draft,
            state=state, user=user(author, api), assignee=people[0] if people else None, assignees=people,
            requested_reviewers=[], requested_teams=[], labels=[], milestone=None, body="", locked=False,
            created_at=when, updated_at=when, closed_at=None, merged_at=None, merged=False, merged_by=None,
            html_url=f"https://github.com/{repo['full_name']}/pull/{number}", auto_merge=None)
        pull["head"].update(ref=head_branch, label=f"{repo['owner']['login']}:{head_branch}", repo=repo,
                            user=repo["owner"])
        pull["base"].update(ref="main", label=f"{repo['owner']['login']}:main", repo=repo, user=repo["owner"])
        self.pulls.setdefault(full_name.lower(), {})[number] = pull
        return pull

    def delete_run(self, full_name: str, run_id: int) -> None:
        """The run is gone, as after `DELETE …/actions/runs/{run_id}` or a vanished runner's cleanup:
        GitHub answers 404 for it from now on (to GET, cancel and force-cancel alike)."""
        self.runs.get(full_name.lower(), {}).pop(run_id, None)

    def add_timeline_event(self, full_name: str, number: int, event: str = "copilot_work_started", *,
                           actor: str = "monalisa", created_at: float | None = None) -> dict:
        """Append an issue event (e.g. `copilot_work_started`) to a pull request's timeline."""
        repo = self._repo(full_name)
        event_id = next(self._event_ids)
        item = {"id": event_id, "node_id": objects.node_id("IssueEvent", event_id),
                "url": f"{repo['url']}/issues/events/{event_id}", "actor": user(actor, self.fake.url),
                "event": event, "commit_id": None, "commit_url": None,
                "created_at": iso(created_at if created_at is not None else time.time()),
                "performed_via_github_app": None}
        self.timelines.setdefault((full_name.lower(), number), []).append(item)
        return item


def register(fake: FakeGitHub) -> None:
    """Add this module's routes and state to `fake` (`fake.add_run`, `fake.add_pull`, …)."""
    state = ActionsState(fake)
    fake.actions = state
    fake.add_run, fake.add_pull, fake.add_timeline_event = state.add_run, state.add_pull, state.add_timeline_event
    fake.delete_run = state.delete_run

    def repo_key(params: dict) -> str:
        return f"{params['owner']}/{params['repo']}".lower()

    @fake.route("GET", "/repos/{owner}/{repo}/actions/runs")
    def list_runs(req: Recorded, params: dict):
        runs = sorted(state.runs.get(repo_key(params), {}).values(), key=lambda r: (r["created_at"], r["id"]),
                      reverse=True)
        for name, fields in (("event", ("event",)), ("branch", ("head_branch",)), ("status", ("status", "conclusion"))):
            wanted = req.query.get(name, [None])[-1]
            runs = [r for r in runs if wanted is None or wanted in (r[f] for f in fields)]
        created = req.query.get("created", [None])[-1]
        if created:
            runs = [r for r in runs if _date_matches(r["created_at"][:10], created)]
        page, headers = fake.paginate(req, runs)
        return Response(200, {"total_count": len(runs), "workflow_runs": page}, headers)

    @fake.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}")
    def get_run(req: Recorded, params: dict):
        run = state.runs.get(repo_key(params), {}).get(params["run_id"])
        return (200, run) if run else error(404, "Not Found")

    @fake.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
    def get_pull(req: Recorded, params: dict):
        pull = state.pulls.get(repo_key(params), {}).get(params["pull_number"])
        return (200, pull) if pull else error(404, "Not Found")

    @fake.route("GET", "/repos/{owner}/{repo}/pulls")
    def list_pulls(req: Recorded, params: dict):
        wanted_state = req.query.get("state", ["open"])[-1]
        head = req.query.get("head", [None])[-1]
        simple_keys = set(spec().example("pull-request-simple-items")[0])
        pulls = [p for _, p in sorted(state.pulls.get(repo_key(params), {}).items(), reverse=True)
                 if (wanted_state == "all" or p["state"] == wanted_state)
                 and (head is None or p["head"]["label"].lower() == head.lower())]
        page, headers = fake.paginate(req, [{k: v for k, v in p.items() if k in simple_keys} for p in pulls])
        return Response(200, page, headers)

    @fake.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline")
    def timeline(req: Recorded, params: dict):
        key = (repo_key(params), params["issue_number"])
        if params["issue_number"] not in state.pulls.get(key[0], {}) and key not in state.timelines:
            return error(404, "Not Found")
        page, headers = fake.paginate(req, list(state.timelines.get(key, [])))
        return Response(200, page, headers)


def _date_matches(day: str, query: str) -> bool:
    """GitHub's `created` search qualifier on a YYYY-MM-DD day: `>=d`, `<=d`, `>d`, `<d`, `a..b`, `d`."""
    if ".." in query:
        low, high = query.split("..", 1)
        return (low in ("*", "") or day >= low) and (high in ("*", "") or day <= high)
    for op, test in ((">=", str.__ge__), ("<=", str.__le__), (">", str.__gt__), ("<", str.__lt__)):
        if query.startswith(op):
            return test(day, query[len(op):][:10])
    return day == query[:10]
