"""The jobs of a workflow run (`GET …/actions/runs/{run_id}/jobs`), with their times, as GitHub lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .actions import iso
from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub


def register(fake: FakeGitHub) -> None:
    """`fake.add_job(repo, run_id, job_id, started_at=…, completed_at=…)` adds a job to a run `fake.add_run` made."""
    jobs: dict[tuple[str, int], list[dict]] = {}

    def add_job(full_name: str, run_id: int, job_id: int, *, started_at: float, completed_at: float | None,
                run_attempt: int = 1, conclusion: str | None = "success", name: str = "copilot") -> dict:
        run = fake.actions.runs[full_name.lower()][run_id]
        job = spec().example("job")
        job.pop("steps", None)  # optional, and nothing reads a job's steps
        job.update(id=job_id, node_id=f"J_{job_id}", run_id=run_id, run_url=run["url"], run_attempt=run_attempt,
                   head_sha=run["head_sha"], head_branch=run["head_branch"], workflow_name=run["name"], name=name,
                   url=f"{fake.url}/repos/{run['repository']['full_name']}/actions/jobs/{job_id}",
                   html_url=f"{run['html_url']}/job/{job_id}",
                   status="completed" if completed_at is not None else "in_progress",
                   conclusion=conclusion if completed_at is not None else None,
                   created_at=iso(started_at), started_at=iso(started_at),
                   completed_at=iso(completed_at) if completed_at is not None else None)
        jobs.setdefault((full_name.lower(), run_id), []).append(job)
        return job

    fake.add_job = add_job

    @fake.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs")
    def list_jobs(req: Recorded, params: dict):
        key = f"{params['owner']}/{params['repo']}".lower()
        run = fake.actions.runs.get(key, {}).get(params["run_id"])
        if run is None:
            return error(404, "Not Found")
        found = jobs.get((key, params["run_id"]), [])
        if req.query.get("filter", ["latest"])[-1] != "all":  # latest: the run's current attempt only
            found = [job for job in found if job["run_attempt"] == run["run_attempt"]]
        page, headers = fake.paginate(req, found)
        return Response(200, {"total_count": len(found), "jobs": page}, headers)
