"""New task on the Agents page, end to end: a signed-in person's form (and `POST /api/tasks`) against
the fake GitHub's Agent tasks API; the task shown queued at once, then joined to its pull request and
run by the artifacts a refresh with the person's kept token reads; its state, model and usage (each
unit apart) on the session page, the list and the JSON API; and GitHub's refusals in plain words."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.db import agent_tasks, user_tokens
from bot.handlers import task_refresh
from bot.web.csrf import HEADER
from tests import sessions_payloads as hooks
from tests.fakegithub import payloads
from tests.openapi_check import conforms
from tests.test_web_signin import csrf_of, make_bot, sign_in

ALICE, BOB = 1001, 1002
INSTALLATION, ALPHA, BETA = 7, "octo/alpha", "octo/beta"
START = f"/agents/repos/{ALPHA}/tasks"


@pytest.fixture
def fake(fake_github):
    """One installation on octo's two repositories; alice reaches alpha only, bob both."""
    fake_github.add_installation(INSTALLATION, "octo", [ALPHA, BETA])
    fake_github.add_user("alice", user_id=ALICE)
    fake_github.grant("alice", ALPHA)
    fake_github.add_user("bob", user_id=BOB)
    fake_github.grant("bob", ALPHA, BETA)
    fake_github.callback_url = "http://localhost/signin/callback"
    return fake_github


@pytest.fixture
def bot(fake, app_key, database_url):
    bot = make_bot(fake, app_key, database_url)
    created = payloads.with_installation(payloads.example("installation", "created"), INSTALLATION)
    created["installation"]["account"] = fake.installations[INSTALLATION]["account"]
    bot.settle([("installation", created)])  # the bot lists the installation's repositories
    yield bot
    bot.dispose()


@pytest.fixture
def browser(bot, fake):
    browser = bot.app.test_client()
    sign_in(browser, fake)
    return browser


def start(browser, **form):
    """The New task form, sent as a browser sends it (with the page's CSRF token)."""
    fields = {"repository": ALPHA, "prompt": "Fix the flaky login test", "csrf_token": csrf_of(browser), **form}
    return browser.post("/tasks", data=fields)


def token_of(fake, login: str) -> str:
    return next(t.value for t in fake.users.access.values() if t.login == login)


def refresh(bot, later: float = 0.0) -> int:
    """One refresh of every kept token's tasks, `later` seconds from now; how many tasks it read whole."""
    return task_refresh.refresh(bot.runtime, now=time.time() + later)


def html(response) -> str:
    return response.get_data(as_text=True)


def test_the_form_offers_the_repositories_the_person_can_see_and_the_models(browser):
    page = html(browser.get("/tasks/new"))
    assert f'<option value="{ALPHA}"' in page and BETA not in page
    assert '<option value="gpt-5.4">' in page and 'name="csrf_token"' in page
    assert 'id="new-task-link"' in html(browser.get("/sessions"))


def test_a_new_task_starts_with_the_persons_token_shows_queued_then_joins_its_pull_request_and_run(
        bot, browser, fake):
    answer = start(browser, model="gpt-5.4", base_ref="main", keep="1")
    assert answer.status_code == 303 and answer.location.startswith("/tasks/")
    [post] = fake.calls("POST", START)
    assert post.headers["Authorization"] == f"Bearer {token_of(fake, 'alice')}" and post.auth_kind == "user"
    assert post.json == {"prompt": "Fix the flaky login test", "model": "gpt-5.4", "base_ref": "main",
                         "create_pull_request": True}
    task_id = answer.location.split("/tasks/", 1)[1].split("?", 1)[0]
    shown = html(browser.get(answer.location))
    assert 'data-state="queued"' in shown and "task queued" in shown and 'id="task-no-sessions"' in shown
    waiting = html(browser.get("/sessions"))
    assert f'data-task-id="{task_id}" data-state="queued"' in waiting, "the list shows it before any run exists"

    # Copilot works: a pull request and a run whose branch and author say nothing of the task.
    run, pull = fake.agent_tasks.work(task_id, 4242, pr_number=12)
    bot.settle([("pull_request", hooks.pull_request("opened", fake, pull, INSTALLATION)),
                ("workflow_run", hooks.workflow_run("in_progress", fake, run, INSTALLATION))])
    assert 'id="task-no-sessions"' in html(browser.get(f"/tasks/{task_id}")), "joined only once GitHub says so"
    assert refresh(bot) == 1
    shown = html(browser.get(f"/tasks/{task_id}"))
    assert "task working" in shown and "gpt-5.4" in shown
    session_id = int(shown.split('<li data-session-id="', 1)[1].split('"', 1)[0])
    assert f'data-task-id="{task_id}"' not in html(browser.get("/sessions")).split('id="sessions"')[0]

    fake.agent_tasks.finish(task_id, usage={"type": "ai_credits", "amount": 1_250_000_000})
    assert refresh(bot) == 1
    page = html(browser.get(f"/sessions/{session_id}"))
    assert "task completed" in page and "1.2 AI credits" in page and "premium" not in page
    row = html(browser.get("/sessions")).split(f'data-session-id="{session_id}"', 1)[1]
    assert "task completed · gpt-5.4 · 1.2 AI credits" in row.split("</tr>", 1)[0]


def test_usage_is_shown_per_unit_never_added_together(bot, browser, fake):
    task_id = start(browser, keep="1").location.split("/tasks/", 1)[1].split("?", 1)[0]
    run, pull = fake.agent_tasks.work(task_id, 5151, pr_number=3)
    fake.agent_tasks.finish(task_id, usage={"type": "premium_requests", "amount": 1.5})
    fake.agent_tasks.add_session(task_id, "Now the docs", state="completed",
                                 usage={"type": "ai_credits", "amount": 333_333_333})
    fake.agent_tasks.add_session(task_id, "And the changelog", state="waiting_for_user",
                                 usage={"type": "ai_credits", "amount": 333_333_334})
    bot.settle([("pull_request", hooks.pull_request("opened", fake, pull, INSTALLATION)),
                ("workflow_run", hooks.workflow_run("in_progress", fake, run, INSTALLATION))])
    refresh(bot)
    session_id = bot.session_row(5151).id
    page = html(browser.get(f"/sessions/{session_id}"))
    # 0.333333333 + 0.333333334 credits: summed in nano units, divided once (two roundings would say 0.6).
    assert "task waiting for its user" in page and "0.7 AI credits · 1.5 premium requests" in page
    found = browser.get(f"/api/sessions/{session_id}")
    conforms(found, "GET", f"/api/sessions/{session_id}")
    [task] = found.json["tasks"]
    assert task["usage"] == {"ai_credits": 0.7, "ai_credits_nano": 666_666_667, "premium_requests": 1.5}
    assert task["state"] == "waiting_for_user" and task["id"] == task_id


@pytest.mark.parametrize("status", [403, 404, 422])
def test_a_plan_without_the_api_is_refused_in_plain_words(bot, browser, fake, status):
    fake.agent_tasks.withhold(status, login="alice")
    refused = start(browser)
    page = html(refused)
    assert refused.status_code == 403 and 'id="task-refused"' in page
    assert f"GitHub refused to start a Copilot task in {ALPHA} (it answered {status})" in page
    assert "Copilot Business or Enterprise plan" in page
    assert "Fix the flaky login test" in page, "the form keeps what was typed"
    with bot.engine.connect() as conn:
        assert conn.execute(select(agent_tasks)).all() == []


def test_an_app_without_the_agent_tasks_permission_says_who_grants_it(bot, browser, fake):
    del fake.installations[INSTALLATION]["permissions"]["agent_tasks"]
    page = html(start(browser))
    assert "lacks the Agent tasks permission" in page
    assert f"https://github.com/organizations/octo/settings/installations/{INSTALLATION}" in page


def test_a_token_github_no_longer_takes_is_told_to_sign_in_again(bot, browser, fake):
    token = csrf_of(browser)  # the page was open; then she revoked the App on GitHub (no webhook yet)
    fake.revoke_user("alice")
    refused = browser.post("/tasks", data={"repository": ALPHA, "prompt": "x", "csrf_token": token})
    assert refused.status_code == 401 and "GitHub no longer accepts your token" in html(refused)
    assert [r.status for r in fake.calls("POST", START)] == [401]


def test_a_repository_the_person_cannot_see_is_refused_without_asking_github(bot, browser, fake):
    refused = start(browser, repository=BETA)
    assert refused.status_code == 422 and not fake.calls("POST", "/agents/*")


def test_the_form_needs_its_csrf_token_and_checks_its_fields(bot, browser, fake):
    assert browser.post("/tasks", data={"repository": ALPHA, "prompt": "x"}).status_code == 403
    assert start(browser, prompt="   ").status_code == 400
    assert start(browser, model="gpt-0").status_code == 400
    assert start(browser, base_ref="a b").status_code == 400
    assert not fake.calls("POST", "/agents/*")


def test_post_api_tasks_starts_a_task_as_the_signed_in_person(bot, browser, fake):
    answer = browser.post("/api/tasks", json={"repository": ALPHA, "prompt": "Bump the linter"},
                          headers={HEADER: csrf_of(browser)})
    conforms(answer, "POST", "/api/tasks")
    assert answer.status_code == 201 and answer.json["state"] == "queued" and answer.json["sessions"] == []
    shown = browser.get(f"/api/tasks/{answer.json['id']}")
    conforms(shown, "GET", f"/api/tasks/{answer.json['id']}")
    assert shown.json["id"] == answer.json["id"]
    refused = browser.post("/api/tasks", json={"repository": BETA, "prompt": "x"}, headers={HEADER: csrf_of(browser)})
    conforms(refused, "POST", "/api/tasks")
    assert refused.status_code == 422


def test_the_operator_cannot_start_a_task(bot, fake):
    operator = bot.app.test_client()
    answer = operator.post("/api/tasks", json={"repository": ALPHA, "prompt": "x"},
                           headers={"Authorization": "Bearer " + "a" * 40})
    conforms(answer, "POST", "/api/tasks")
    assert answer.status_code == 403 and "sign in with GitHub" in answer.json["message"]
    assert not fake.calls("POST", "/agents/*")


def test_a_task_in_a_repository_the_person_cannot_see_is_not_found(bot, browser, fake):
    task_id = start(browser).location.split("/tasks/", 1)[1].split("?", 1)[0]
    with bot.engine.begin() as conn:
        conn.execute(agent_tasks.update().values(repository_id=fake.repositories[BETA]["id"]))
    assert browser.get(f"/tasks/{task_id}").status_code == 404
    assert browser.get(f"/api/tasks/{task_id}").status_code == 404


# -- whose tokens the refresh uses ---------------------------------------------------------------------


def test_a_signed_out_or_revoked_persons_token_is_gone_and_the_refresh_skips_them(bot, browser, fake):
    bob = bot.app.test_client()
    sign_in(bob, fake, "bob")
    for person in (browser, bob):
        person.post("/account/keep-token", data={"keep": "1", "csrf_token": csrf_of(person)})
    assert refresh(bot) == 0
    assert len(fake.calls("GET", "/agents/tasks")) == 2, "both kept tokens are used"

    browser.post("/signout", data={"csrf_token": csrf_of(browser)})
    revoked = payloads.example("github_app_authorization", "revoked")
    revoked["sender"].update(id=BOB, login="bob")
    bot.settle([("github_app_authorization", revoked)])
    with bot.engine.connect() as conn:
        assert conn.execute(select(user_tokens)).all() == [], "neither token is in the database any more"
    mark = len(fake.requests)
    assert refresh(bot) == 0
    assert not fake.calls("GET", "/agents/*")[mark:] and len(fake.requests) == mark, "nobody's token is used"


def test_the_refresh_reads_nothing_again_when_nothing_changed(bot, browser, fake):
    start(browser, keep="1")
    # GitHub's times are whole seconds: a task recorded within the second it was updated may have
    # changed again in that second, so the first refresh may read it whole once; never again after.
    assert refresh(bot, later=2) in (0, 1)
    read = len(fake.calls("GET", "/agents/tasks/*"))
    assert refresh(bot, later=4) == 0
    assert [r.status for r in fake.calls("GET", "/agents/tasks")] == [200, 304], "an unchanged list costs nothing"
    assert len(fake.calls("GET", "/agents/tasks/*")) == read


def test_the_refresh_is_a_periodic_job_of_at_least_a_minute_and_off_without_sign_in(bot):
    from bot import schedule
    from bot.config import Settings

    settings = bot.runtime.settings
    assert schedule.PERIODIC["tasks.refresh"].interval(settings) == 60
    fast = Settings(**{**settings.__dict__, "task_refresh_interval": 5.0})
    assert schedule.PERIODIC["tasks.refresh"].interval(fast) == 60, "at most once a minute per person"
    assert schedule.PERIODIC["tasks.refresh"].interval(Settings()) == 0


def test_a_hostile_prompt_is_text_on_every_page_that_shows_the_task(bot, browser, fake):
    hostile = '<img src=x onerror=alert(1)> "><script>alert(2)</script> ghp_abcdefghijklmnopqrstuvwxyz0123456789'
    task_id = start(browser, prompt=hostile, keep="1").location.split("/tasks/", 1)[1].split("?", 1)[0]
    for path in (f"/tasks/{task_id}", "/sessions"):
        page = html(browser.get(path))
        # GitHub names the task after the prompt: escaped on the page, and its secret never kept.
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page and "<script>alert" not in page
        assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in page, path
