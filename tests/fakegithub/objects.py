"""GitHub-shaped JSON objects (accounts, repositories, installations, the app) from the spec."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from .openapi import spec

# The login, repository and API host GitHub's examples are written around.
_EXAMPLE_LOGIN = "octocat"
_EXAMPLE_REPO = "octocat/Hello-World"
_EXAMPLE_API = "https://api.github.com"
_CREATED = "2024-01-02T03:04:05Z"


def stable_id(*parts: str) -> int:
    """A numeric id that is the same in every run for the same name (snapshots stay stable)."""
    return zlib.crc32("/".join(parts).lower().encode()) % 900_000_000 + 100_000_000


def node_id(kind: str, number: int) -> str:
    """A legacy global node id as GitHub mints them: base64 of "0<len(kind)>:<kind><id>"."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _rehome(example: Any, api_url: str, **names: str) -> Any:
    """The example with api.github.com replaced by the fake's URL and example names by ours."""
    text = json.dumps(example).replace(_EXAMPLE_API, api_url)
    for old, new in names.items():
        text = text.replace(old, new)
    return json.loads(text)


def account(login: str, api_url: str, *, type: str = "Organization") -> dict:
    """A `simple-user`: the owner of a repository or the account an app is installed on."""
    user = spec().example("integration")["owner"]
    user = _rehome(user, api_url, **{f"/{_EXAMPLE_LOGIN}": f"/{login}"})
    number = stable_id("account", login)
    user.update(login=login, id=number, node_id=node_id(type, number), type=type,
                avatar_url=f"https://avatars.githubusercontent.com/u/{number}?v=4")
    return user


def repository(full_name: str, owner: dict, api_url: str, *, private: bool = True) -> dict:
    """A `repository` as list endpoints (`GET /installation/repositories`) return it."""
    example = spec().example("repository-paginated-2")["repositories"][0]
    example.pop("custom_properties")
    return _shape(example, full_name, owner, api_url, private)


def full_repository(full_name: str, owner: dict, api_url: str, *, private: bool = True) -> dict:
    """A `full-repository` as `GET /repos/{owner}/{repo}` returns it (not a fork, no template)."""
    example = spec().example("full-repository-default-response")
    for fork_only in ("parent", "source"):
        example.pop(fork_only)
    repo = _shape(example, full_name, owner, api_url, private)
    repo.update(template_repository=None, language=None, network_count=0)
    if owner["type"] == "Organization":
        repo["organization"] = owner
    else:
        repo.pop("organization")
    return repo


def _shape(example: dict, full_name: str, owner: dict, api_url: str, private: bool) -> dict:
    example["template_repository"] = None  # it names another repository; keep it out of the rename
    repo = _rehome(example, api_url, **{_EXAMPLE_REPO: full_name})
    number = stable_id("repo", full_name)
    name = full_name.split("/", 1)[1]
    repo.update(
        id=number, node_id=node_id("Repository", number), name=name, full_name=full_name,
        owner=owner, private=private, visibility="private" if private else "public",
        description=f"{name}, as the fake GitHub serves it", homepage=None, mirror_url=None,
        default_branch="main", topics=[], is_template=False, fork=False,
        forks_count=0, forks=0, stargazers_count=0, watchers_count=0, watchers=0,
        open_issues_count=0, open_issues=0, created_at=_CREATED, updated_at=_CREATED,
        pushed_at=_CREATED,
    )
    return repo


def installation(installation_id: int, account: dict, app: dict, api_url: str, *,
                 permissions: dict, suspended: bool) -> dict:
    """An `installation` as `GET /app/installations/{installation_id}` returns it."""
    inst = spec().example("base-installation")
    settings = ("https://github.com/organizations/{login}/settings/installations/{id}"
                if account["type"] == "Organization"
                else "https://github.com/settings/installations/{id}")
    inst.update(
        id=installation_id, account=account, app_id=app["id"], app_slug=app["slug"],
        target_id=account["id"], target_type=account["type"], permissions=dict(permissions),
        events=list(app["events"]), repository_selection="selected",
        access_tokens_url=f"{api_url}/app/installations/{installation_id}/access_tokens",
        repositories_url=f"{api_url}/installation/repositories",
        html_url=settings.format(login=account["login"], id=installation_id),
        single_file_name=None, has_multiple_single_files=False, single_file_paths=[],
        created_at=_CREATED, updated_at=_CREATED,
        suspended_at=_CREATED if suspended else None,
        suspended_by=account if suspended else None,
    )
    return inst


def app(app_id: int, owner: dict, *, permissions: dict, events: list[str]) -> dict:
    """An `integration` as `GET /app` returns it."""
    integration = spec().example("integration")
    integration.update(
        id=app_id, slug="session-bot", node_id=node_id("Integration", app_id),
        client_id=f"Iv23li{app_id:014d}", name="session-bot", owner=owner,
        description="Makes Copilot coding-agent sessions visible from pull requests.",
        external_url="https://example.com/session-bot",
        html_url="https://github.com/apps/session-bot",
        permissions=dict(permissions), events=list(events), installations_count=0,
        created_at=_CREATED, updated_at=_CREATED,
    )
    return integration
