"""The fake's Agent tasks API (agent_tasks.py, copilot_tasks.py): the five `agent-tasks/*` routes as
GitHub's description has them (the checked fake fails a test on any answer not GitHub-shaped), who may
call them (user tokens only, the App's `agent_tasks` permission, a plan that has the API), ETags, and a
started task producing its Copilot run and pull request."""

from __future__ import annotations

import pytest
import requests

from bot.github.permissions import NOT_ACCESSIBLE
from tests import app_manifest
from tests.fakegithub.credentials import REPOS, as_app, as_installation, as_user, installation_token

TASKS = "/agents/repos/acme/widgets/tasks"
DOCS = "https://docs.github.com/rest/agent-tasks/agent-tasks"


def user(fake, login: str = "monalisa") -> dict:
    return as_user(fake.users.mint(login)[0].value)


def call(fake, method: str, path: str, headers: dict, **kw) -> requests.Response:
    return requests.request(method, f"{fake.url}{path}", headers=headers, timeout=5, **kw)


def start(fake, headers: dict, path: str = TASKS, **body) -> requests.Response:
    return call(fake, "POST", path, headers, json={"prompt": "Fix the flaky login test", **body})


# Starting and reading


def test_a_started_task_is_queued_with_one_session_and_no_artifacts(mona):
    answer = start(mona, user(mona), create_pull_request=True, model="gpt-5.4")
    assert answer.status_code == 201
    task = answer.json()
    repository = mona.repositories["acme/widgets"]
    assert (task["state"], task["session_count"], task["artifacts"]) == ("queued", 1, [])
    assert task["creator"] == {"id": mona.users.user("monalisa")["id"]}
    assert task["repository"] == {"id": repository["id"]} and task["owner"] == {"id": repository["owner"]["id"]}
    assert task["name"] == "Fix the flaky login test"
    assert task["html_url"] == f"https://github.com/acme/widgets/copilot/tasks/{task['id']}"
    (session,) = call(mona, "GET", f"{TASKS}/{task['id']}", user(mona)).json()["sessions"]
    assert (session["state"], session["prompt"], session["model"], session["base_ref"]) == \
        ("queued", "Fix the flaky login test", "gpt-5.4", "main")
    assert call(mona, "GET", f"/agents/tasks/{task['id']}", user(mona)).json()["sessions"] == [session]


def test_a_model_the_description_does_not_list_is_a_validation_failure(mona):
    answer = start(mona, user(mona), model="gpt-2")
    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "invalid"
    assert start(mona, user(mona), model="claude-sonnet-4.6").status_code == 201


def test_a_body_without_its_prompt_is_refused_before_anything_starts(fake):
    fake.add_user("monalisa")
    fake.grant("monalisa", "acme/widgets")
    assert call(fake, "POST", TASKS, user(fake), json={"model": "gpt-5.4"}).status_code == 422
    assert fake.agent_tasks.tasks == {}
    assert any("'prompt' is a required property" in p for p in fake.problems())


def test_a_task_of_another_repository_is_not_found_under_this_one(mona):
    task = start(mona, user(mona)).json()
    assert call(mona, "GET", f"/agents/repos/acme/gadgets/tasks/{task['id']}", user(mona)).status_code == 404
    assert call(mona, "GET", "/agents/tasks/no-such-task", user(mona)).status_code == 404


# Who may call


def test_an_installation_token_or_the_apps_jwt_is_refused_on_every_route(fake, app_key):
    task = fake.agent_tasks.add_task("acme/widgets", fake.add_user("monalisa")["login"], "Fix it")
    installation = as_installation(installation_token(fake, app_key))
    routes = [("POST", TASKS, f"{DOCS}#start-a-task"), ("GET", TASKS, f"{DOCS}#list-tasks-for-repository"),
              ("GET", f"{TASKS}/{task['id']}", f"{DOCS}#get-a-task-by-repo"), ("GET", "/agents/tasks", f"{DOCS}#list-tasks"),
              ("GET", f"/agents/tasks/{task['id']}", f"{DOCS}#get-a-task-by-id")]
    for method, path, docs in routes:
        body = {"json": {"prompt": "Fix it"}} if method == "POST" else {}
        refused = call(fake, method, path, installation, **body)
        assert (refused.status_code, refused.json()) == (403, {"message": NOT_ACCESSIBLE, "documentation_url": docs,
                                                               "status": "403"}), path
    assert start(fake, as_app(app_key)).status_code == 403
    assert len(fake.problems()) == 6  # the bot sent a kind of token GitHub refuses there
    assert len(fake.agent_tasks.tasks) == 1


def test_a_repository_the_person_and_the_app_do_not_share_is_not_found(mona):
    mona.add_installation(8, "other", ["other/secret"])
    mona.grant("monalisa", "elsewhere/private")
    for path in ("/agents/repos/acme/gizmos/tasks", "/agents/repos/other/secret/tasks",
                 "/agents/repos/elsewhere/private/tasks"):
        assert start(mona, user(mona), path).status_code == 404, path
    assert mona.agent_tasks.tasks == {}


def test_the_app_needs_agent_tasks_read_to_read_and_write_to_start(github):
    without = {k: v for k, v in app_manifest.default_permissions().items() if k != "agent_tasks"}
    github.add_installation(7, "acme", REPOS, permissions={**without, "agent_tasks": "read"})
    github.add_installation(8, "bare", ["bare/repo"], permissions=without)
    github.add_user("monalisa")
    github.grant("monalisa", "acme/widgets", "bare/repo")
    refused = start(github, user(github))
    assert refused.status_code == 403 and refused.json()["message"] == NOT_ACCESSIBLE
    assert refused.json()["documentation_url"] == f"{DOCS}#start-a-task"
    assert call(github, "GET", TASKS, user(github)).json()["tasks"] == []
    assert call(github, "GET", "/agents/repos/bare/repo/tasks", user(github)).status_code == 403


@pytest.mark.parametrize("status", [403, 404, 422])
def test_a_person_whose_plan_lacks_the_api_is_refused_everywhere(mona, status):
    task = mona.agent_tasks.add_task("acme/widgets", "monalisa", "Fix it")
    mona.agent_tasks.withhold(status, login="monalisa")
    for method, path in (("POST", TASKS), ("GET", TASKS), ("GET", "/agents/tasks"),
                         ("GET", f"/agents/tasks/{task['id']}")):
        assert call(mona, method, path, user(mona), json={"prompt": "x"} if method == "POST" else None
                    ).status_code == status, path
    mona.add_user("hubot")
    mona.grant("hubot", "acme/widgets")
    assert start(mona, user(mona, "hubot")).status_code == 201  # another person's plan has it


def test_a_repository_whose_organisation_lacks_the_api_is_refused_there_only(mona):
    mona.agent_tasks.add_task("acme/widgets", "monalisa", "Fix it")
    mona.agent_tasks.add_task("acme/gadgets", "monalisa", "Fix that")
    mona.agent_tasks.withhold(422, repo="acme/widgets")
    assert start(mona, user(mona)).json()["message"] == "Validation Failed"
    assert start(mona, user(mona), "/agents/repos/acme/gadgets/tasks").status_code == 201
    mine = call(mona, "GET", "/agents/tasks", user(mona)).json()["tasks"]
    assert {t["name"] for t in mine} == {"Fix that", "Fix the flaky login test"}


# Conditional requests


def test_an_unchanged_task_or_list_is_a_304_and_a_change_is_seen(mona):
    task = start(mona, user(mona)).json()
    headers = user(mona)
    for path in (f"/agents/tasks/{task['id']}", "/agents/tasks", TASKS):
        first = call(mona, "GET", path, headers)
        again = call(mona, "GET", path, {**headers, "If-None-Match": first.headers["etag"]})
        assert (again.status_code, again.content) == (304, b""), path
    etag = call(mona, "GET", f"/agents/tasks/{task['id']}", headers).headers["etag"]
    mona.agent_tasks.finish(task["id"], "failed", error_message="The agent could not start")
    changed = call(mona, "GET", f"/agents/tasks/{task['id']}", {**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["state"] == "failed"
    assert changed.json()["sessions"][0]["error"] == {"message": "The agent could not start"}


# The agent at work


def test_work_makes_the_run_and_the_pull_request_that_the_artifacts_name(mona, app_key):
    task = start(mona, user(mona), create_pull_request=True).json()
    run, pull = mona.agent_tasks.work(task["id"], 6161, pr_number=12)
    read = call(mona, "GET", f"/agents/tasks/{task['id']}", user(mona)).json()
    assert read["state"] == "in_progress"
    assert read["artifacts"] == [
        {"provider": "github", "type": "pull", "data": {"id": pull["id"], "global_id": pull["node_id"]}},
        {"provider": "github", "type": "branch", "data": {"head_ref": run["head_branch"], "base_ref": "main"}}]
    installation = as_installation(installation_token(mona, app_key))
    assert call(mona, "GET", "/repos/acme/widgets/pulls/12", installation).json()["id"] == pull["id"]
    listed = call(mona, "GET", "/repos/acme/widgets/actions/runs/6161", installation).json()
    assert [p["number"] for p in listed["pull_requests"]] == [12] and listed["head_branch"] == pull["head"]["ref"]
    assert (listed["status"], listed["triggering_actor"]["login"]) == ("in_progress", "monalisa")


def test_a_task_on_a_pull_requests_branch_commits_there_and_opens_none(mona):
    existing = mona.add_pull("acme/widgets", 7, head_branch="copilot/fix-7")
    task = start(mona, user(mona), base_ref="copilot/fix-7", head_ref="copilot/fix-7").json()
    run, pull = mona.agent_tasks.work(task["id"], 6262)
    assert pull["id"] == existing["id"] and run["head_branch"] == "copilot/fix-7"
    assert list(mona.actions.pulls["acme/widgets"]) == [7]
    artifacts = call(mona, "GET", f"{TASKS}/{task['id']}", user(mona)).json()["artifacts"]
    assert artifacts[0]["data"]["id"] == existing["id"]


def test_a_task_without_a_pull_request_has_its_branch_alone(mona):
    task = start(mona, user(mona)).json()
    run, pull = mona.agent_tasks.work(task["id"], 6363, branch="copilot/try-it")
    assert pull is None and run["pull_requests"] == []
    assert [a["type"] for a in mona.agent_tasks.answer(mona.agent_tasks.tasks[task["id"]])["artifacts"]] == ["branch"]


def test_sessions_end_with_their_usage_and_their_run_completes(mona):
    task = start(mona, user(mona), create_pull_request=True).json()
    mona.agent_tasks.work(task["id"], 6464)
    run = mona.agent_tasks.finish(task["id"], usage={"type": "premium_requests", "amount": 1.5})
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    mona.agent_tasks.add_session(task["id"], "Now the docs", state="completed",
                                 usage={"type": "ai_credits", "amount": 2_300_000_000})
    read = call(mona, "GET", f"/agents/tasks/{task['id']}", user(mona)).json()
    assert read["session_count"] == 2 and read["state"] == "completed"
    assert [s["usage"] for s in read["sessions"]] == [{"type": "premium_requests", "amount": 1.5},
                                                      {"type": "ai_credits", "amount": 2_300_000_000}]


# Lists


def test_lists_filter_sort_and_paginate_as_the_description_says(mona):
    mona.add_user("hubot")
    mona.grant("hubot", "acme/widgets")
    mine = [mona.agent_tasks.add_task("acme/widgets", "monalisa", f"Task {n}") for n in range(3)]
    mona.clock_offset += 5
    mona.agent_tasks.add_task("acme/widgets", "hubot", "Theirs")
    mona.agent_tasks.finish(mine[0]["id"])
    headers = user(mona)

    def names(path: str) -> list[str]:
        return [t["name"] for t in call(mona, "GET", path, headers).json()["tasks"]]

    assert names(f"{TASKS}?creator_id={mona.users.user('hubot')['id']}") == ["Theirs"]
    assert names(f"{TASKS}?state=completed") == ["Task 0"]
    assert names(f"{TASKS}?sort=created_at&direction=asc") == ["Task 0", "Task 1", "Task 2", "Theirs"]
    assert "Theirs" not in names("/agents/tasks")  # the person's own
    everything = names(TASKS)
    assert everything[0] == "Task 0"  # updated last: newest first by default
    first = call(mona, "GET", f"{TASKS}?per_page=3", headers)
    assert first.json()["total_active_count"] == 4 and len(first.json()["tasks"]) == 3
    rest = requests.get(first.links["next"]["url"], headers=headers, timeout=5).json()["tasks"]
    assert [t["name"] for t in first.json()["tasks"] + rest] == everything
