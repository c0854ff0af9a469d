"""Routes for stopping runs (cancel, force-cancel) and a pull request's commits (a running
session's progress). Uses the runs and pulls of `actions`, which registers first."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from .actions import iso
from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub


def register(fake: FakeGitHub) -> None:
    """`fake.cancel_takes_effect` (default True): whether a plain cancel stops the run; a run that
    ignores it stays `in_progress` until force-cancelled. `fake.cancel_finishes_work` (default True):
    whether Copilot then says so on the pull request's timeline (`copilot_work_finished`), as it does
    for work it said it started there; False: the session GitHub's panel keeps showing as running.
    `fake.add_commit(repo, number, message)`."""
    fake.cancel_takes_effect = True
    fake.cancel_finishes_work = True
    commits: dict[tuple[str, int], list[dict]] = {}

    def run_of(params: dict) -> dict | None:
        return fake.actions.runs.get(f"{params['owner']}/{params['repo']}".lower(), {}).get(params["run_id"])

    def stop(run: dict) -> None:
        run.update(status="completed", conclusion="cancelled", updated_at=iso(fake.now()))
        if fake.cancel_finishes_work:
            finish_work(run)

    def finish_work(run: dict) -> None:
        """`copilot_work_finished` on the timeline of the run's pull request, if Copilot started work there."""
        repo = run["repository"]["full_name"]
        pulls = fake.actions.pulls.get(repo.lower(), {})
        numbers = [p["number"] for p in run["pull_requests"]] or [
            number for number, pull in pulls.items() if pull["head"]["ref"] == run["head_branch"]]
        for number in numbers:
            events = fake.actions.timelines.get((repo.lower(), number), [])
            if any(event.get("event") == "copilot_work_started" for event in events):
                fake.add_timeline_event(repo, number, "copilot_work_finished", actor="Copilot", created_at=fake.now())

    @fake.route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel")
    def cancel(req: Recorded, params: dict):
        run = run_of(params)
        if run is None:
            return error(404, "Not Found")
        if run["status"] == "completed":
            return error(409, "Cannot cancel a workflow run that is completed.")
        if fake.cancel_takes_effect:
            stop(run)
        return Response(202, {})

    @fake.route("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel")
    def force_cancel(req: Recorded, params: dict):
        run = run_of(params)
        if run is None:
            return error(404, "Not Found")
        if run["status"] == "completed":
            return error(409, "Cannot cancel a workflow run that is completed.")
        stop(run)
        return Response(202, {})

    def add_commit(full_name: str, number: int, message: str, *, at: float | None = None) -> dict:
        commit = spec().example("commit-items")[0]
        commit["commit"]["message"] = message
        commit["commit"]["author"]["date"] = iso(at if at is not None else time.time())
        nth = len(commits.get((full_name.lower(), number), [])) + 1
        commit["sha"] = hashlib.sha1(f"{full_name}#{number}/{nth}".encode()).hexdigest()  # unique, and looks it
        commits.setdefault((full_name.lower(), number), []).append(commit)
        # The PR's timeline lists it too, as a `committed` event (GitHub's timeline-committed-event).
        git = commit["commit"]
        fake.actions.timelines.setdefault((full_name.lower(), number), []).append({
            "event": "committed", "sha": commit["sha"], "node_id": commit["node_id"], "url": git["url"],
            "html_url": commit["html_url"], "author": git["author"], "committer": dict(git["author"]),
            "tree": git["tree"], "message": message, "parents": commit["parents"],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None}})
        return commit

    fake.add_commit = add_commit

    @fake.route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
    def pull_commits(req: Recorded, params: dict):
        page, headers = fake.paginate(req, commits.get((f"{params['owner']}/{params['repo']}".lower(),
                                                        params["pull_number"]), []))
        return Response(200, page, headers)
