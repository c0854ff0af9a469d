"""Copilot tasks with a person's token (bot/github/api.py, GitHub's Agent tasks API) against the fake
GitHub: starting, listing and reading tasks, conditional reads kept apart per person, and how a plan
without the API and an App without the permission are told apart."""

from __future__ import annotations

import pytest

from bot.github import api
from bot.github.client import ScopedETags
from bot.github.errors import GitHubError, MissingPermission
from tests.fakegithub.copilot_tasks import models
from tests.fakegithub.openapi import spec
from tests.github_client import INSTALLATION, REPO, MemoryETagStore

TASKS = f"/agents/repos/{REPO}/tasks"


@pytest.fixture
def mona(fake_github, github):
    """monalisa's client; she and the App share octo-org/hello."""
    fake_github.add_user("monalisa", user_id=4242)
    fake_github.grant("monalisa", REPO)
    return github.user(fake_github.users.mint("monalisa")[0].value)


def test_the_models_and_states_are_those_the_description_lists():
    assert api.TASK_MODELS == models()
    schema = spec().document["paths"][TASKS.replace(REPO, "{owner}/{repo}")]["post"]["responses"]["201"]
    assert api.TASK_STATES == tuple(schema["content"]["application/json"]["schema"]["properties"]["state"]["enum"])


def test_a_task_starts_with_only_the_fields_given(mona, fake_github):
    task = api.start_task(mona, REPO, "Fix the flaky login test", model="gpt-5.4", create_pull_request=True)
    assert task["state"] == "queued" and task["artifacts"] == []
    assert fake_github.calls("POST", TASKS)[0].json == {"prompt": "Fix the flaky login test",
                                                        "create_pull_request": True, "model": "gpt-5.4"}
    api.start_task(mona, REPO, "Go on", base_ref="copilot/fix-7", head_ref="copilot/fix-7")
    assert fake_github.calls("POST", TASKS)[1].json == {"prompt": "Go on", "create_pull_request": False,
                                                        "base_ref": "copilot/fix-7", "head_ref": "copilot/fix-7"}
    assert fake_github.calls("POST", TASKS)[1].headers["authorization"].startswith("Bearer ghu_")


def test_a_repositorys_tasks_are_listed_and_read_with_their_sessions(mona, fake_github):
    first = api.start_task(mona, REPO, "One")
    api.start_task(mona, REPO, "Two")
    fake_github.agent_tasks.finish(first["id"])
    assert [t["name"] for t in api.repository_tasks(mona, REPO)] == ["One", "Two"]
    assert [t["name"] for t in api.repository_tasks(mona, REPO, state="completed", creator_id=4242)] == ["One"]
    read = api.repository_task(mona, REPO, first["id"])
    assert [s["prompt"] for s in read["sessions"]] == ["One"]


def test_conditional_reads_cost_a_304_when_unchanged_and_see_usage_when_changed(mona, fake_github):
    started = api.start_task(mona, REPO, "Fix it", create_pull_request=True)
    etags = ScopedETags(MemoryETagStore(), "user:4242")
    assert api.task(mona, started["id"], etags)[1] is True
    same, changed = api.task(mona, started["id"], etags)
    assert changed is False and same["state"] == "queued"
    assert fake_github.calls("GET", f"/agents/tasks/{started['id']}")[-1].status == 304
    fake_github.agent_tasks.work(started["id"], 6161)
    fake_github.agent_tasks.finish(started["id"], usage={"type": "ai_credits", "amount": 1_250_000_000})
    read, changed = api.task(mona, started["id"], etags)
    assert changed and read["state"] == "completed"
    assert read["sessions"][0]["usage"] == {"type": "ai_credits", "amount": 1_250_000_000}


def test_a_persons_tasks_are_read_page_by_page_and_kept_apart_from_anothers(mona, github, fake_github):
    for n in range(api.TASKS_PAGE + 1):
        fake_github.agent_tasks.add_task(REPO, "monalisa", f"Task {n}")
    fake_github.add_user("hubot", user_id=5151)
    fake_github.grant("hubot", REPO)
    hubot = github.user(fake_github.users.mint("hubot")[0].value)
    store = MemoryETagStore()  # one store for every process and person, as the bot's database is
    tasks, changed = api.person_tasks(mona, ScopedETags(store, "user:4242"))
    assert (len(tasks), changed) == (api.TASKS_PAGE + 1, True)
    assert api.person_tasks(mona, ScopedETags(store, "user:4242")) == (tasks, False)
    assert [c.status for c in fake_github.calls("GET", "/agents/tasks")] == [200, 200, 304, 304]
    assert api.person_tasks(hubot, ScopedETags(store, "user:5151")) == ([], True)
    assert api.person_tasks(mona, ScopedETags(store, "user:4242"), state="completed") == ([], True)


@pytest.mark.parametrize("status", [403, 404, 422])
def test_a_plan_without_the_api_is_a_plain_github_error(mona, fake_github, status):
    fake_github.agent_tasks.withhold(status, login="monalisa")
    with pytest.raises(GitHubError) as refused:
        api.start_task(mona, REPO, "Fix it")
    assert refused.value.status == status and not isinstance(refused.value, MissingPermission)


def test_an_app_without_agent_tasks_is_a_missing_permission_naming_it(fake_github, github, mona):
    fake_github.installations[INSTALLATION]["permissions"].pop("agent_tasks")
    with pytest.raises(MissingPermission) as refused:
        api.start_task(mona, REPO, "Fix it")
    assert refused.value.needs == (("agent_tasks", "write"),)
