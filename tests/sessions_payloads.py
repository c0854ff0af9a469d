"""Webhook payloads of agent sessions, from GitHub's examples, agreeing with what the fake serves."""

from __future__ import annotations

import copy
import time

from tests.fakegithub import objects, payloads
from tests.fakegithub.actions import iso


def _around(event: str, action: str, fake, full_name: str, installation_id: int, *, index: int = 0) -> dict:
    payload = payloads.example(event, action, index=index)
    payload["repository"] = copy.deepcopy(fake.repositories[full_name.lower()])
    payload.pop("organization", None)
    return payloads.with_installation(payload, installation_id)


def workflow_run(action: str, fake, run: dict, installation_id: int) -> dict:
    """A `workflow_run` delivery carrying `run` (as `fake.add_run` made it) at this moment."""
    payload = _around("workflow_run", "requested" if action != "completed" else "completed", fake,
                      run["repository"]["full_name"], installation_id, index=0 if action != "completed" else 1)
    payload["action"] = action
    payload["workflow_run"] = copy.deepcopy(run)
    payload["workflow"].update(path=run["path"], name=run["name"])
    payload["sender"] = copy.deepcopy(run["triggering_actor"])
    return payload


def run_at(run: dict, status: str, *, conclusion: str | None = None, at: float | None = None) -> dict:
    """`run` as GitHub shows it once it reaches `status` (and `conclusion`), updated at `at`."""
    later = copy.deepcopy(run)
    later.update(status=status, conclusion=conclusion if status == "completed" else None,
                 updated_at=iso(at if at is not None else time.time()))
    return later


def workflow_job(action: str, fake, run: dict, installation_id: int, *, job_id: int,
                 started_at: float | None = None, completed_at: float | None = None,
                 conclusion: str | None = None) -> dict:
    """A `workflow_job` delivery for a job of `run`: it names the run by id only, with no path."""
    index = {"queued": 0, "in_progress": 1, "completed": 0, "waiting": 0}[action]
    payload = _around("workflow_job", action, fake, run["repository"]["full_name"], installation_id, index=index)
    job = payload["workflow_job"]
    job.update(id=job_id, run_id=run["id"], run_url=run["url"], run_attempt=run["run_attempt"],
               head_branch=run["head_branch"], head_sha=run["head_sha"], workflow_name=run["name"],
               status=action, conclusion=conclusion if action == "completed" else None,
               created_at=run["created_at"], started_at=iso(started_at) if started_at else run["created_at"],
               completed_at=iso(completed_at) if completed_at and action == "completed" else None)
    payload["sender"] = copy.deepcopy(run["actor"])
    return payload


def pull_request(action: str, fake, pull: dict, installation_id: int) -> dict:
    """A `pull_request` delivery for `pull` (as `fake.add_pull` made it)."""
    payload = _around("pull_request", "opened", fake, pull["base"]["repo"]["full_name"], installation_id)
    payload.update(action=action, number=pull["number"], pull_request=copy.deepcopy(pull),
                   sender=copy.deepcopy(pull["user"]))
    return payload


def from_fork(fake, pull: dict, owner: str, name: str | None = None) -> dict:
    """Move `pull`'s head (as `fake.add_pull` made it, and as the fake serves it) to `owner`'s fork
    of its base repository (named `name`, by default the base's name), as GitHub shows such a PR."""
    base = pull["base"]["repo"]
    account = objects.account(owner, fake.url, type="Organization" if owner == base["owner"]["login"] else "User")
    fork = objects.repository(f"{owner}/{name or base['name']}", account, fake.url, private=base["private"])
    fork["fork"] = True
    ref = pull["head"]["ref"]
    pull["head"].update(repo=fork, user=account, label=f"{owner}:{ref}")
    return pull
