"""Routes for talking on pull requests: issue comments, reactions, and collaborator permissions."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

from .objects import _rehome, account, node_id
from .openapi import spec
from .wire import DOCS, Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

_ids = itertools.count(2_000_000_001)
MAX_BODY = 65_536  # GitHub answers 422 to a longer comment body


def _too_long(body: str) -> Response | None:
    if len(body) <= MAX_BODY:
        return None
    return Response(422, {"message": "Validation Failed", "documentation_url": DOCS, "status": "422",
                          "errors": [{"resource": "IssueComment", "code": "custom", "field": "body",
                                      "message": f"body is too long (maximum is {MAX_BODY} characters)"}]})


def register(fake: FakeGitHub) -> None:
    """Comments kept per (repo, issue number); permissions per (repo, login), `none` if unset."""
    fake.comments = {}  # comment id → comment object (with "_repo" and "_issue" keys stripped on output)
    fake.reactions = {}  # comment id → list of reactions
    fake.permissions = {}  # (repo lower, login lower) → "admin" | "maintain" | "write" | "triage" | "read"

    def add_comment(repo: str, issue_number: int, body: str, *, login: str = "octocat",
                    user_type: str = "User") -> dict:
        """A comment as a person (or bot) wrote it; returns GitHub's object."""
        comment_id = next(_ids)
        comment = _rehome(spec().example("issue-comment"), fake.url, **{"octocat/Hello-World": repo})
        user = account(login, fake.url, type=user_type)
        known = fake.users.accounts.get(login.lower())
        if known is not None:  # a person the fake knows comments as themselves: the same id as `GET /user`
            user.update(id=known["id"], node_id=known["node_id"])
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fake.now()))
        comment.update(id=comment_id, node_id=node_id("IssueComment", comment_id), body=body, user=user,
                       url=f"{fake.url}/repos/{repo}/issues/comments/{comment_id}",
                       html_url=f"https://github.com/{repo}/pull/{issue_number}#issuecomment-{comment_id}",
                       issue_url=f"{fake.url}/repos/{repo}/issues/{issue_number}",
                       created_at=now, updated_at=now, author_association="MEMBER")
        comment.pop("reactions", None)
        fake.comments[comment_id] = {**comment, "_repo": repo.lower(), "_issue": issue_number}
        return _public(fake.comments[comment_id])

    fake.add_comment = add_comment
    fake.comments_on = lambda repo, number: [_public(c) for c in fake.comments.values()
                                              if c["_repo"] == repo.lower() and c["_issue"] == number]

    @fake.route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    def create_comment(req: Recorded, params: dict):
        repo = f"{params['owner']}/{params['repo']}"
        if refused := _too_long(req.json["body"]):
            return refused
        comment = add_comment(repo, params["issue_number"], req.json["body"], login="session-bot[bot]",
                              user_type="Bot")
        return 201, comment

    @fake.route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    def list_comments(req: Recorded, params: dict):
        page, headers = fake.paginate(req, fake.comments_on(f"{params['owner']}/{params['repo']}",
                                                            params["issue_number"]))
        return Response(200, page, headers)

    @fake.route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
    def update_comment(req: Recorded, params: dict):
        comment = fake.comments.get(params["comment_id"])
        if comment is None or comment["_repo"] != f"{params['owner']}/{params['repo']}".lower():
            return error(404, "Not Found")
        if refused := _too_long(req.json["body"]):
            return refused
        comment.update(body=req.json["body"],
                       updated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fake.now())))
        return 200, _public(comment)

    @fake.route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
    def react(req: Recorded, params: dict):
        if params["comment_id"] not in fake.comments:
            return error(404, "Not Found")
        reactions = fake.reactions.setdefault(params["comment_id"], [])
        existing = next((r for r in reactions if r["content"] == req.json["content"]), None)
        if existing:  # GitHub answers 200 with the reaction the app already left
            return 200, existing
        reaction = spec().example("reaction")
        reaction.update(id=next(_ids), content=req.json["content"],
                        user=account("session-bot[bot]", fake.url, type="Bot"))
        reactions.append(reaction)
        return 201, reaction

    @fake.route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
    def permission(req: Recorded, params: dict):
        repo = f"{params['owner']}/{params['repo']}".lower()
        # On a public repository GitHub reports read for anyone, collaborator or not.
        public = not fake.repositories.get(repo, {}).get("private", True)
        role = fake.permissions.get((repo, params["username"].lower()), "read" if public else "none")
        # `permission` keeps the legacy vocabulary: maintain reads as write, triage as read.
        legacy = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read",
                  "none": "none"}[role]
        user = account(params["username"], fake.url, type="User")
        user["permissions"] = {"admin": role == "admin", "maintain": role in ("admin", "maintain"),
                               "push": legacy in ("admin", "write"), "triage": role not in ("read", "none"), "pull": role != "none"}
        user["role_name"] = role
        return Response(200, {"permission": legacy, "role_name": role, "user": user})


def _public(comment: dict) -> dict:
    return {k: v for k, v in comment.items() if not k.startswith("_")}
