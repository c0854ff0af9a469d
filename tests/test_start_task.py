"""`/session start <prompt…>` (bot/commands/start_task.py), in process against the fake GitHub: the task
started on the pull request's branch with the commenter's kept token, and only theirs; who may; a plan
without the API; the new session joining the status comment; one task however the POST failed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.db import agent_tasks, command_runs
from bot.handlers.status_comment import MARKER
from tests import sessions_payloads as hooks
from tests.copilot_pr import comment_payload
from tests.markdown_oracle import live
from tests.test_web_signin import csrf_of, make_bot, sign_in

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
ALICE = 1001
START = f"/agents/repos/{REPO}/tasks"
PROMPT = "Add a test for the parser, token ghp_abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
def fake(fake_github):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.add_user("alice", user_id=ALICE)
    fake_github.grant("alice", REPO)
    fake_github.permissions[(REPO, "alice")] = "write"
    fake_github.callback_url = "http://localhost/signin/callback"
    return fake_github


def bot_with(fake, app_key, database_url, **settings):
    bot = make_bot(fake, app_key, database_url, **settings)
    bot.open_session(INSTALLATION, REPO, PR, RUN)
    return bot


@pytest.fixture
def bot(fake, app_key, database_url):
    bot = bot_with(fake, app_key, database_url, public_url="https://bot.example.com")
    yield bot
    bot.dispose()


def keep_token(bot, fake, login: str = "alice") -> None:
    """`login` signs in on the Agents page and chooses to keep their token."""
    browser = bot.app.test_client()
    sign_in(browser, fake, login)
    browser.post("/account/keep-token", data={"keep": "1", "csrf_token": csrf_of(browser)})


def start(bot, fake, body: str = f"/session start {PROMPT}", login: str = "alice") -> str:
    """`login` comments `body`; the bot's reply."""
    made, payload = comment_payload(fake, body, login=login, installation=INSTALLATION, repo=REPO, pr=PR)
    bot.settle([("issue_comment", payload)])
    marker = f"<!-- session-bot:reply {made['id']}:"
    [reply] = [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(marker)]
    return reply


def tasks(bot) -> list:
    with bot.engine.connect() as conn:
        return conn.execute(select(agent_tasks)).all()


def test_a_kept_token_starts_a_task_on_the_pull_requests_branch_and_its_session_joins_the_status_comment(
        bot, fake):
    keep_token(bot, fake)
    reply = start(bot, fake)
    [post] = fake.calls("POST", START)
    alice_token = next(t.value for t in fake.users.access.values() if t.login == "alice")
    assert post.headers["Authorization"] == f"Bearer {alice_token}"
    # The PR's head branch, into its base branch: "open PR context for head_ref targeting base_ref".
    assert post.json == {"prompt": PROMPT.replace("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[redacted]"),
                         "base_ref": "main", "head_ref": f"copilot/fix-{RUN}", "create_pull_request": False}
    assert "started a Copilot task on this pull request's branch `copilot/fix-5151`, as you" in reply
    assert "Add a test" not in reply.split("\n\n", 1)[1], "the prompt is quoted once, inert, never repeated"
    assert "ghp_" not in reply
    with bot.engine.connect() as conn:
        assert "ghp_" not in repr(conn.execute(select(command_runs.c.text)).all()), "kept redacted"
    [task] = tasks(bot)
    assert (task.creator_login, task.state, task.repository) == ("alice", "queued", REPO)

    run, pull = fake.agent_tasks.work(task.id, 6262)
    assert pull["number"] == PR, "Copilot commits to this pull request"
    bot.settle([("workflow_run", hooks.workflow_run("in_progress", fake, run, INSTALLATION))])
    [status] = [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    assert "| 2 |" in status and "alice" in status


def test_without_a_kept_token_the_reply_links_to_the_sign_in(bot, fake):
    browser = bot.app.test_client()
    sign_in(browser, fake)  # signed in, but the token is not kept
    reply = start(bot, fake)
    assert "sign in at https://bot.example.com/account, choose to keep your token, then comment again" in reply
    assert not fake.calls("POST", "/agents/*") and tasks(bot) == []


def test_without_a_public_url_the_reply_names_the_agents_page(fake, app_key, database_url):
    bot = bot_with(fake, app_key, database_url)
    try:
        assert "sign in on the Agents page" in start(bot, fake)
    finally:
        bot.dispose()


def test_someone_else_with_write_gets_the_sign_in_reply_not_alices_token(bot, fake):
    keep_token(bot, fake)
    fake.add_user("hubot", user_id=2002)
    fake.permissions[(REPO, "hubot")] = "admin"
    assert "choose to keep your token" in start(bot, fake, login="hubot")
    assert not fake.calls("POST", "/agents/*")


@pytest.mark.parametrize("role", ["read", "triage"])
def test_someone_without_write_is_refused(bot, fake, role):
    keep_token(bot, fake)
    fake.permissions[(REPO, "alice")] = role
    assert "Only people with write access, or listed under `stop` in `.github/session-bot.yml` may use " \
           "`/session start`." in start(bot, fake)
    assert not fake.calls("POST", "/agents/*")


def test_someone_the_configs_stop_list_names_may_start_without_write(fake, app_key, database_url):
    fake.set_file(REPO, ".github/session-bot.yml", "stop:\n  allow: listed\n  users: [alice]\n")
    fake.permissions[(REPO, "alice")] = "read"
    bot = bot_with(fake, app_key, database_url)
    try:
        keep_token(bot, fake)
        assert "started a Copilot task" in start(bot, fake)
    finally:
        bot.dispose()


@pytest.mark.parametrize("status", [403, 404, 422])
def test_a_plan_without_the_api_gets_a_plain_reply(bot, fake, status):
    keep_token(bot, fake)
    fake.agent_tasks.withhold(status, repo=REPO)
    reply = start(bot, fake)
    assert f"could not start a task. GitHub refused to start a Copilot task in {REPO} (it answered {status})" in reply
    assert "Copilot Business or Enterprise plan" in reply and tasks(bot) == []


def test_a_start_without_a_prompt_says_what_start_takes(bot, fake):
    reply = start(bot, fake, "/session start")
    assert "I did not understand that: `start` takes a prompt." in reply
    assert "`/session start <prompt…>`" in reply


def test_a_start_whose_answer_was_lost_is_found_and_never_doubled(fake, app_key, database_url):
    # The queue's true clock: a retry after a write that may have landed waits GITHUB_AMBIGUOUS_WAIT_SECONDS.
    bot = bot_with(fake, app_key, database_url, all_due=False, github_read_timeout=0.5, github_ambiguous_wait=2.0)
    try:
        keep_token(bot, fake)
        # GitHub starts the task, but its answer does not come back in time: the attempt fails, ambiguous.
        fake.fail("POST", START, mode="timeout", delay=1.0)
        made, payload = comment_payload(fake, f"/session start {PROMPT}", login="alice", installation=INSTALLATION,
                                        repo=REPO, pr=PR)
        bot.settle([("issue_comment", payload)])
        with bot.engine.connect() as conn:
            assert conn.execute(select(command_runs.c.state)).scalar() == "starting"
        marker = f"<!-- session-bot:reply {made['id']}:"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the retry comes once the ambiguous wait is over
            bot.drain()
            replies = [c["body"] for c in fake.comments_on(REPO, PR) if c["body"].startswith(marker)]
            if replies and "started" in replies[0]:
                break
            time.sleep(0.2)
        assert "started a Copilot task" in replies[0]
        assert len(fake.calls("POST", START)) == 1 and len(fake.agent_tasks.tasks) == 1
        assert [task.id for task in tasks(bot)] == list(fake.agent_tasks.tasks)
        assert fake.calls("GET", START), "the retry looked among alice's tasks before starting another"
    finally:
        bot.dispose()


def test_an_app_without_the_agent_tasks_permission_names_it_and_who_grants_it(bot, fake):
    keep_token(bot, fake)
    del fake.installations[INSTALLATION]["permissions"]["agent_tasks"]
    reply = start(bot, fake)
    assert "lacks `agent_tasks: write`" in reply and f"/settings/installations/{INSTALLATION}" in reply
    assert tasks(bot) == []


def test_a_kept_token_github_no_longer_takes_is_answered_with_the_sign_in(bot, fake):
    keep_token(bot, fake)
    fake.revoke_user("alice")  # revoked on GitHub; the webhook saying so has not come yet
    reply = start(bot, fake)
    assert "GitHub no longer accepts your kept token" in reply and "https://bot.example.com/account" in reply


def test_a_hostile_branch_name_and_prompt_render_nothing_live_in_the_reply(bot, fake):
    # A branch name is the pull request author's: git allows backticks, `<`, `@`, `#` and brackets in it.
    fake.actions.pulls[REPO][PR]["head"]["ref"] = "fix`<img src=x>`@octo-org/admins#12[x](https://evil.example)"
    keep_token(bot, fake)
    reply = start(bot, fake, body="/session start <b>hi</b> @octo-org/admins #3 ![i](https://evil.example/i.png)")
    assert "started a Copilot task" in reply and "evil.example)" in reply, "the branch is named, inert"
    found = live(reply.split("\n", 1)[1])  # after the bot's hidden marker
    assert not found.elements and not found.images and not found.references and not found.links, reply
    assert found.mentions == ["@a"], "only the asker, alice (the oracle keeps a mention's first character)"
