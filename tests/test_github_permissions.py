"""The App's permission table (config/app-manifest.yml), the route map, and how a refusal reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from bot.github import permissions
from bot.github.errors import GitHubError, MissingPermission, error_for
from tests import app_manifest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_manifest_asks_for_what_the_issue_settled_each_with_a_reason():
    assert app_manifest.default_permissions() == {
        "actions": "write", "pull_requests": "write", "issues": "write",
        "contents": "read", "metadata": "read", "members": "read", "agent_tasks": "write"}
    reasons = app_manifest.reasons()
    assert set(reasons) == set(app_manifest.default_permissions())
    assert all(len(reason) > 20 for reason in reasons.values()), reasons


def test_the_readme_table_is_the_manifests():
    rows = re.findall(r"^\| `([a-z_]+)` \| (read|write|admin) \| (.+) \|$", README.read_text(encoding="utf-8"), re.M)
    assert {name: level for name, level, _ in rows} == app_manifest.default_permissions()
    assert {name: why for name, _, why in rows} == app_manifest.reasons()


def test_the_manifest_covers_every_route_the_bot_uses():
    granted = app_manifest.default_permissions()
    for method, template, needs, _ in permissions.ROUTES:
        assert not needs or any(app_manifest.covers(granted, need) for need in needs), (method, template)


@pytest.mark.parametrize("method, path, needs", [
    ("POST", "/repos/o/r/actions/runs/5/cancel", (("actions", "write"),)),
    ("GET", "/api/v3/repos/o/r/actions/runs/5", (("actions", "read"),)),  # a GHES base path
    ("POST", "/repos/o/r/issues/7/comments", (("issues", "write"), ("pull_requests", "write"))),
    ("GET", "/orgs/o/teams/leads/memberships/alice", (("members", "read"),)),
    ("GET", "/repos/o/r", (("metadata", "read"),)),
    ("DELETE", "/repos/o/r", None),
])
def test_needed(method, path, needs):
    assert permissions.needed(method, path) == needs


def test_settings_url_for_an_organization_and_a_user():
    assert permissions.settings_url(9, "octo-org", "Organization") == \
        "https://github.com/organizations/octo-org/settings/installations/9"
    assert permissions.settings_url(9, "monalisa", "User") == "https://github.com/settings/installations/9"


def _response(status: int, body: dict) -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp._content = status, requests.compat.json.dumps(body).encode()
    resp.headers["content-type"] = "application/json"
    return resp


def test_resource_not_accessible_by_integration_is_a_missing_permission_naming_what_the_route_needs():
    resp = _response(403, {"message": "Resource not accessible by integration",
                           "documentation_url": "https://docs.github.com/rest/actions/workflow-runs"})
    err = error_for(resp, "POST /repos/o/r/actions/runs/5/cancel", 0.0)
    assert isinstance(err, MissingPermission) and isinstance(err, GitHubError)
    assert err.needs == (("actions", "write"),)


def test_other_403s_stay_plain_github_errors():
    err = error_for(_response(403, {"message": "Must have admin rights to Repository."}), "GET /repos/o/r", 0.0)
    assert type(err) is GitHubError
