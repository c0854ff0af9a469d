"""Routes for repository files (the contents API, default branch) and team memberships."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub


def register(fake: FakeGitHub) -> None:
    """`fake.set_file(repo, path, text)` on the default branch; `fake.team_members[(org, slug)]`."""
    files: dict[tuple[str, str], str] = {}
    fake.team_members = {}

    def set_file(full_name: str, path: str, text: str | None) -> None:
        if text is None:
            files.pop((full_name.lower(), path), None)
        else:
            files[(full_name.lower(), path)] = text

    fake.set_file = set_file

    @fake.route("GET", "/repos/{owner}/{repo}/contents/{path}")
    def get_content(req: Recorded, params: dict):
        full_name = f"{params['owner']}/{params['repo']}"
        text = files.get((full_name.lower(), params["path"]))
        if text is None or "ref" in req.query:  # only the default branch holds files here
            return error(404, "Not Found")
        data = text.encode()
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        item = spec().example("content-file")
        api = f"{fake.url}/repos/{full_name}/contents/{params['path']}"
        item.update(name=params["path"].rsplit("/", 1)[-1], path=params["path"], sha=sha, size=len(data),
                    content=base64.encodebytes(data).decode(), url=api, git_url=None, download_url=None,
                    html_url=f"https://github.com/{full_name}/blob/main/{params['path']}",
                    _links={"self": api, "git": None, "html": f"https://github.com/{full_name}/blob/main/{params['path']}"})
        return Response(200, item)

    @fake.route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
    def team_membership(req: Recorded, params: dict):
        members = fake.team_members.get((params["org"].lower(), params["team_slug"].lower()), ())
        if params["username"].lower() not in {m.lower() for m in members}:
            return error(404, "Not Found")
        return Response(200, {"url": f"{fake.url}/teams/1/memberships/{params['username']}", "role": "member",
                              "state": "active"})
