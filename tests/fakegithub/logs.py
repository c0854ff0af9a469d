"""Routes for run and job logs (302 to the blob host, as GitHub answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wire import Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

RUNNING = object()  # a job log GitHub has not written yet: the redirect leads to a missing blob


def register(fake: FakeGitHub) -> None:
    """Add this module's routes (and any state they keep) to `fake`."""
    fake.run_logs = {}  # (lower-case "owner/repo", run_id) → zip bytes
    fake.job_logs = {}  # (lower-case "owner/repo", job_id) → text bytes, or RUNNING

    def set_run_log(full_name: str, run_id: int, archive: bytes) -> None:
        """Serve `archive` (a zip, see tests.agentlogs.run_logs_zip) as the run's logs; until then, 404."""
        fake.run_logs[(full_name.lower(), int(run_id))] = archive

    def set_job_log(full_name: str, job_id: int, text: bytes | str | None) -> None:
        """Serve `text` as the job's log; None: the job is still running (its blob answers 404)."""
        data = text.encode() if isinstance(text, str) else text
        fake.job_logs[(full_name.lower(), int(job_id))] = RUNNING if data is None else data

    fake.set_run_log = set_run_log
    fake.set_job_log = set_job_log

    @fake.route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/logs")
    def run_logs(req, params):
        archive = fake.run_logs.get((f"{params['owner']}/{params['repo']}".lower(), params["run_id"]))
        if archive is None:
            return error(404, "Not Found")  # what GitHub answers while the run is going
        return fake.redirect(archive, content_type="application/zip")

    @fake.route("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs")
    def job_logs(req, params):
        text = fake.job_logs.get((f"{params['owner']}/{params['repo']}".lower(), params["job_id"]))
        if text is None:
            return error(404, "Not Found")
        if text is RUNNING:
            return Response(302, None, {"location": f"{fake.blob_url}/blobs/not-written-yet?sig=unsigned"})
        return fake.redirect(text, content_type="text/plain")
