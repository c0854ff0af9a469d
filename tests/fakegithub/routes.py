"""Routes every test needs: the app, its installations and their tokens, repositories."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

_LEVELS = {"read": 1, "write": 2, "admin": 3}


def register(fake: FakeGitHub) -> None:
    """Add these routes to `fake`; modules for later features register theirs the same way."""

    @fake.route("GET", "/app")
    def get_app(req: Recorded, params: dict):
        return 200, fake.app

    @fake.route("GET", "/app/installations/{installation_id}")
    def get_installation(req: Recorded, params: dict):
        installation = fake.installations.get(params["installation_id"])
        return (200, installation) if installation else error(404, "Not Found")

    @fake.route("POST", "/app/installations/{installation_id}/access_tokens")
    def create_access_token(req: Recorded, params: dict):
        installation_id = params["installation_id"]
        installation = fake.installations.get(installation_id)
        if installation is None:
            return error(404, "Not Found")
        if installation["suspended_at"]:
            return error(403, "This installation has been suspended")
        body = req.json or {}
        repositories = None
        if "repositories" in body or "repository_ids" in body:
            repositories = _narrow(fake, installation_id, body.get("repositories", []),
                                   body.get("repository_ids", []))
            if repositories is None:
                return error(422, "There is at least one repository that does not exist or is "
                                  "not accessible to the parent installation.")
        granted = installation["permissions"]
        requested = body.get("permissions")
        if requested and any(_LEVELS[level] > _LEVELS.get(granted.get(name), 0)
                             for name, level in requested.items()):
            return error(422, "The permissions requested are not granted to this installation.")
        token = fake.issue_token(installation_id, repositories=repositories, permissions=requested)
        answer = {
            "token": token.value,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(token.expires_at)),
            "permissions": token.permissions,
            "repository_selection": "selected",
        }
        if repositories is not None:
            answer["repositories"] = fake.token_repositories(token)
        return 201, answer

    @fake.route("GET", "/installation/repositories")
    def list_installation_repositories(req: Recorded, params: dict):
        repositories = fake.token_repositories(fake.token_of(req))
        page, headers = fake.paginate(req, repositories)
        return Response(200, {"total_count": len(repositories), "repository_selection": "selected",
                              "repositories": page}, headers)

    @fake.route("GET", "/repos/{owner}/{repo}")
    def get_repository(req: Recorded, params: dict):
        repository = fake.repositories.get(f"{params['owner']}/{params['repo']}".lower())
        return (200, repository) if repository else error(404, "Not Found")


def _narrow(fake: FakeGitHub, installation_id: int, names: list[str],
            ids: list[int]) -> list[str] | None:
    """Full names of the repositories asked for by name or id; None if one is out of reach."""
    covered = fake.installation_repositories[installation_id]
    by_name = {full.split("/", 1)[1].lower(): full for full in covered}
    by_id = {fake.repositories[full.lower()]["id"]: full for full in covered}
    wanted = [by_name.get(name.lower()) for name in names] + [by_id.get(i) for i in ids]
    return None if None in wanted else list(dict.fromkeys(wanted))
