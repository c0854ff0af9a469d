"""Slash commands end to end: a comment is delivered through gunicorn → these GitHub calls follow."""

from __future__ import annotations

import copy
import time

import pytest
from sqlalchemy import select

from bot import db
from bot.jobs import URGENT
from tests.app_manifest import default_permissions
from bot.handlers.status_comment import MARKER as STATUS_MARKER
from tests import agentlogs, sessions_payloads as hooks
from tests.copilot_pr import INSTALLATION, PR, REPO, comment, open_session, replies, settle

pytestmark = pytest.mark.slow


@pytest.fixture
def running(bot, fake_github):
    """PR #7 with session 1 running; the bot is up."""
    return open_session(bot, fake_github)


def test_help_reacts_then_replies_once_quoting_the_command_and_mentioning_the_commenter(bot, fake_github, running):
    made, _ = comment(bot, fake_github, "Hi!\n/session help")

    assert [r["content"] for r in fake_github.reactions[made["id"]]] == ["eyes"]
    [reply] = replies(fake_github, made)
    assert "> `/session help`" in reply["body"] and "@hubot" in reply["body"]
    assert "| `/session stop [N\\|all] [reason…]` |" in reply["body"]


def test_list_shows_the_pull_requests_sessions(bot, fake_github, running):
    made, _ = comment(bot, fake_github, "/session list")

    [reply] = replies(fake_github, made)
    assert "| 1 | 🟢 running | monalisa |" in reply["body"]
    assert f"[run](https://github.com/{REPO}/actions/runs/5151)" in reply["body"]


def test_a_fork_with_a_branch_named_like_the_agents_leaves_the_session_to_the_agents_pull_request(bot, fake_github):
    # mallory's fork opens #8 from its own `copilot/fix-1` before the agent's run is seen; GitHub lists no
    # pull request on the run. The session is #7's all the same.
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    t0 = float(int(time.time()) - 120)
    fork = hooks.from_fork(fake_github, fake_github.add_pull(REPO, 8, author="mallory", title="Fix", draft=False,
                                                             assignees=[], created_at=t0 - 60), "mallory")
    run = fake_github.add_run(REPO, 5151, status="in_progress", conclusion=None, created_at=t0,
                              run_started_at=t0 + 1, updated_at=t0 + 5, triggering_actor="monalisa")
    real = fake_github.add_pull(REPO, PR, created_at=t0 + 20)
    bot.start_web()
    settle(bot, [("pull_request", hooks.pull_request("opened", fake_github, fork, INSTALLATION)),
                 ("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION)),
                 ("pull_request", hooks.pull_request("opened", fake_github, real, INSTALLATION))])

    made, _ = comment(bot, fake_github, "/session list")

    [reply] = replies(fake_github, made)
    assert "| 1 | 🟢 running | monalisa |" in reply["body"]


def test_stop_by_a_writer_cancels_the_run_once_and_records_who(bot, fake_github, running):
    fake_github.permissions[(REPO, "hubot")] = "maintain"

    made, _ = comment(bot, fake_github, "/session stop")

    assert len(fake_github.calls("POST", f"/repos/{REPO}/actions/runs/5151/cancel")) == 1
    [reply] = replies(fake_github, made)
    assert "session 1: cancel requested" in reply["body"]
    bot.wait_until(lambda: _stop_outcome(bot) == "cancelled", what="the grace-period check")
    assert fake_github.calls("POST", "*/force-cancel") == []
    with bot.engine.connect() as conn:
        stop = conn.execute(select(db.session_stops)).one()
    assert (stop.stopped_by, stop.run_id) == ("hubot", 5151)


def test_a_stop_with_a_reason_keeps_it_and_the_status_comment_shows_it_once_github_confirmed(
        bot, fake_github, running):
    fake_github.permissions[(REPO, "hubot")] = "write"
    # Copilot said it started (the run was created 120 s before `running` returned); the cancel adds its finish.
    fake_github.add_timeline_event(REPO, PR, "copilot_work_started", actor="monalisa", created_at=time.time() - 115)

    made, _ = comment(bot, fake_github, "/session stop 1 no longer needed")

    [reply] = replies(fake_github, made)
    assert "session 1: cancel requested" in reply["body"] and "reason: “no longer needed”" in reply["body"]
    bot.wait_until(lambda: _stop_outcome(bot) == "cancelled", what="the check after the grace period")
    with bot.engine.connect() as conn:
        assert conn.execute(select(db.session_stops.c.reason)).scalar() == "no longer needed"
    bot.wait_until(lambda: "stopped by hubot: “no longer needed”" in _status_comments(fake_github)[0]["body"],
                   what="the status comment's edit, with no webhook to prompt it")


def test_a_run_that_ignores_its_cancel_is_force_cancelled_after_the_grace_period(bot, fake_github, running):
    fake_github.permissions[(REPO, "hubot")] = "admin"
    fake_github.cancel_takes_effect = False

    comment(bot, fake_github, "/session stop 1")

    bot.wait_until(lambda: _stop_outcome(bot) == "force_cancelled", what="the force-cancel")
    assert len(fake_github.calls("POST", f"/repos/{REPO}/actions/runs/5151/force-cancel")) == 1


@pytest.mark.parametrize("login, role, public, stops", [
    ("hubot", "read", False, False),       # a reader who did not start it
    ("hubot", "triage", False, False),
    ("monalisa", "read", False, True),     # the person who started it may stop it
    ("monalisa", None, False, False),      # …but not once they lost access
    ("monalisa", None, True, False),       # on a public repository everyone reads: that is not access
    ("monalisa", "triage", True, True),    # …triage is
    ("hubot", "write", True, True),
])
def test_who_may_stop(bot, fake_github, running, login, role, public, stops):
    fake_github.repositories[REPO.lower()].update(private=not public, visibility="public" if public else "private")
    if role:
        fake_github.permissions[(REPO, login)] = role

    made, _ = comment(bot, fake_github, "/session stop", login=login)

    assert bool(fake_github.calls("POST", "*/cancel")) is stops
    [reply] = replies(fake_github, made)
    assert ("Only people with write access, or who started the session" in reply["body"]) is not stops


@pytest.mark.parametrize("body, user_type", [
    ("/session stop", "Bot"),
    ("> /session stop", "User"),
    ("```\n/session stop\n```", "User"),
    ("`/session stop`", "User"),
])
def test_bots_quotes_and_code_are_not_commands(bot, fake_github, running, body, user_type):
    fake_github.permissions[(REPO, "hubot")] = "admin"

    made, _ = comment(bot, fake_github, body, user_type=user_type)

    assert made["id"] not in fake_github.reactions
    assert replies(fake_github, made) == [] and fake_github.calls("POST", "*/cancel") == []


def test_a_quote_reply_runs_only_the_maintainers_own_command(bot, fake_github, running):
    """Issue 12: a reader wrote `how far is it?`, a U+2028 and `/session stop all` (one line on GitHub);
    a maintainer quote-replied and asked for the list. Only the list is theirs."""
    fake_github.permissions[(REPO, "hubot")] = "write"

    made, _ = comment(bot, fake_github, "> how far is it? \u2028/session stop all\n\n/session list")

    [reply] = replies(fake_github, made)
    assert reply["body"].split("\n", 1)[0].rsplit(" ", 2)[-2] == "list"
    assert "> `/session list`" in reply["body"]
    assert fake_github.calls("POST", "*/cancel") == [] and fake_github.calls("POST", "*/force-cancel") == []


@pytest.mark.parametrize("body", [
    "    /session stop",
    "<pre>\n/session stop\n</pre>",
    "> quote\n/session stop",
    "see <!-- hidden\n/session stop\n-->",
])
def test_what_github_shows_as_code_quote_or_nothing_is_not_a_command(bot, fake_github, running, body):
    fake_github.permissions[(REPO, "hubot")] = "write"

    made, _ = comment(bot, fake_github, body)

    assert made["id"] not in fake_github.reactions
    assert replies(fake_github, made) == [] and fake_github.calls("POST", "*/cancel") == []


def test_a_redelivered_command_is_answered_once(bot, fake_github, running):
    fake_github.permissions[(REPO, "hubot")] = "write"
    made, payload = comment(bot, fake_github, "/session stop", delivery="first")

    assert bot.deliver("issue_comment", payload, delivery="first").status_code == 202  # GitHub's redelivery
    assert bot.deliver("issue_comment", payload, delivery="second").status_code == 202  # same comment, new id
    bot.wait_until(bot.jobs_settled, what="the redeliveries")

    assert len(replies(fake_github, made)) == 1
    assert len(fake_github.calls("POST", "*/cancel")) == 1


@pytest.mark.parametrize("mode", ["status", "timeout"])
def test_github_failing_during_the_reply_still_leaves_exactly_one_reply(bot, fake_github, running, mode):
    """A 502 (nothing posted) or a timeout after GitHub posted it: the retry posts, or finds it."""
    bot.web.stop()
    bot.start_web(GITHUB_READ_TIMEOUT_SECONDS=1)
    fake_github.fail("POST", f"/repos/{REPO}/issues/{PR}/comments", status=502, mode=mode, delay=1.5)

    made, _ = comment(bot, fake_github, "/session list")

    bot.wait_until(lambda: replies(fake_github, made), what="the reply")
    [reply] = replies(fake_github, made)
    assert "🟢 running" in reply["body"]


def test_the_status_comment_is_created_once_and_then_edited(bot, fake_github, running):
    bot.wait_until(lambda: _status_comments(fake_github), what="the status comment")
    [status] = _status_comments(fake_github)
    assert "session 1 is running" in status["body"]

    finished = hooks.run_at(running, "completed", conclusion="success", at=time.time())
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake_github, finished, INSTALLATION))])
    bot.wait_until(lambda: "✅ completed" in _status_comments(fake_github)[0]["body"], what="the edit")

    assert len(_status_comments(fake_github)) == 1
    assert fake_github.calls("PATCH", f"/repos/{REPO}/issues/comments/{status['id']}")


def _status_comments(fake) -> list[dict]:
    return [c for c in fake.comments_on(REPO, PR) if c["body"].startswith(STATUS_MARKER)]


def _stop_outcome(bot) -> str | None:
    with bot.engine.connect() as conn:
        return conn.execute(select(db.session_stops.c.outcome)).scalar()


def _agent_log_with_secrets() -> bytes:
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    log.bash("pytest -q", "GITHUB_TOKEN=ghp_" + "A" * 36 + "\n@octocat please look\n3 passed in 0.1s")
    log.final("Done. Ping @octo-org/admins about <script>alert(1)</script>")
    log.pr_title("Fix it", "Fixes it.")
    return agentlogs.run_logs_zip(log.sink.getvalue())


def test_log_of_a_finished_session_is_summarised_safely_and_downloaded_once(bot, fake_github, running):
    fake_github.set_run_log(REPO, 5151, _agent_log_with_secrets())
    finished = hooks.run_at(running, "completed", conclusion="success", at=time.time())
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake_github, finished, INSTALLATION))])

    made, _ = comment(bot, fake_github, "/session log")
    again, _ = comment(bot, fake_github, "/session log 1 --full")

    [reply] = replies(fake_github, made)
    body = reply["body"]
    assert "Copilot session log" in body and "✅" in body and "pytest -q" in body
    assert "ghp_" + "A" * 36 not in body, "a token from the log never reaches a comment"
    assert "<script>" not in body and "@octocat" not in body and "@octo-org/admins" not in body
    assert replies(fake_github, again)
    assert len(fake_github.calls("GET", f"/repos/{REPO}/actions/runs/5151/logs")) == 1, "the summary is kept"


def test_log_of_a_running_session_shows_progress_then_posts_the_summary_when_it_ends(bot, fake_github, running):
    fake_github.add_commit(REPO, PR, "Initial plan")
    fake_github.add_commit(REPO, PR, "Fix the parser for @someone")
    fake_github.actions.pulls[REPO][PR]["body"] = "- [x] Fix the parser\n- [ ] Add a test"

    made, _ = comment(bot, fake_github, "/session log")

    [reply] = replies(fake_github, made)
    assert "Commits so far** (2)" in reply["body"] and "Fix the parser for \\@\u200bsomeone" in reply["body"]
    assert "Checklist** (1/2 done)" in reply["body"]
    fake_github.set_run_log(REPO, 5151, _agent_log_with_secrets())
    # GitHub publishes a run's logs a little after the run ends: the first ask finds none yet.
    fake_github.fail("GET", f"/repos/{REPO}/actions/runs/5151/logs", status=404, times=1)
    finished = hooks.run_at(running, "completed", conclusion="success", at=time.time())
    settle(bot, [("workflow_run", hooks.workflow_run("completed", fake_github, finished, INSTALLATION))])
    followups = [c for c in fake_github.comments_on(REPO, PR)
                 if c["body"].startswith(f"<!-- session-bot:reply {made['id']}:0:followup")]
    assert len(followups) == 1 and "session 1 has ended" in followups[0]["body"]
    assert "@hubot" in followups[0]["body"]


def test_a_repository_can_choose_its_own_prefix(bot, fake_github, running):
    fake_github.set_file(REPO, ".github/session-bot.yml", "prefix: /agent\n")

    ignored, _ = comment(bot, fake_github, "/session list")
    answered, _ = comment(bot, fake_github, "/agent list")

    assert replies(fake_github, ignored) == []
    assert "🟢 running" in replies(fake_github, answered)[0]["body"]


def test_an_invalid_config_is_explained_once_and_the_defaults_apply(bot, fake_github, running):
    fake_github.set_file(REPO, ".github/session-bot.yml", "prefix: [\n")

    first, _ = comment(bot, fake_github, "/session list")
    comment(bot, fake_github, "/session help")

    assert replies(fake_github, first), "the default prefix still works"
    notices = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith("<!-- session-bot:config -->")]
    assert len(notices) == 1 and "not valid YAML" in notices[0]["body"]


@pytest.mark.parametrize("login, listed_as, stops", [
    ("alice", "user", True),
    ("carol", "team", True),
    ("dave", None, False),
])
def test_a_repository_can_list_who_may_stop(bot, fake_github, running, login, listed_as, stops):
    fake_github.set_file(REPO, ".github/session-bot.yml",
                         "stop:\n  allow: listed\n  users: [alice]\n  teams: [octo-org/leads]\n")
    fake_github.team_members[("octo-org", "leads")] = ["carol"]
    fake_github.permissions[(REPO, login)] = "read"

    made, _ = comment(bot, fake_github, "/session stop", login=login)

    assert bool(fake_github.calls("POST", "*/cancel")) is stops
    assert ("lists, or who started the session" in replies(fake_github, made)[0]["body"]) is not stops


def test_a_writer_not_listed_may_not_stop_when_the_repository_lists_people(bot, fake_github, running):
    fake_github.set_file(REPO, ".github/session-bot.yml", "stop:\n  allow: listed\n  users: [alice]\n")
    fake_github.permissions[(REPO, "hubot")] = "write"

    comment(bot, fake_github, "/session stop")

    assert fake_github.calls("POST", "*/cancel") == []


def test_too_many_commands_get_one_notice_and_the_rest_are_ignored(bot, fake_github, running):
    bot.web.stop()
    bot.start_web(COMMAND_RATE_LIMIT=3)

    made, _ = comment(bot, fake_github, "\n".join(["/session help"] * 6))

    bodies = [c["body"] for c in replies(fake_github, made)]
    assert len(bodies) == 4
    assert sum("more than 3 commands in a minute" in b for b in bodies) == 1


def test_a_repository_can_turn_the_status_comment_off(bot, fake_github, app_key, database_url):
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.set_file(REPO, ".github/session-bot.yml", "status_comment: false\n")
    run = fake_github.add_run(REPO, 5151, status="in_progress", conclusion=None, pull_requests=[PR],
                              triggering_actor="monalisa")
    bot.start_web()

    settle(bot, [("workflow_run", hooks.workflow_run("in_progress", fake_github, run, INSTALLATION))])

    assert _status_comments(fake_github) == []
    assert bot.count(db.sessions) == 1


def test_lines_ended_by_a_carriage_return_alone_are_lines(bot, fake_github, running):
    """GitHub ends a line at \\r too; the intake's quick look for a line starting with `/` must as well."""
    made, _ = comment(bot, fake_github, "Thanks!\r/session list")

    [reply] = replies(fake_github, made)
    assert "> `/session list`" in reply["body"]


def test_several_commands_in_one_comment_are_answered_in_order(bot, fake_github, running):
    made, _ = comment(bot, fake_github, "/session list\nthen\n/session help\n/session log 9")

    bodies = [c["body"] for c in replies(fake_github, made)]
    assert [b.split("\n", 1)[0].rsplit(" ", 2)[-2] for b in bodies] == ["list", "help", "log"]


def test_an_edit_runs_only_the_command_it_added(bot, fake_github, running):
    made, payload = comment(bot, fake_github, "/session list")
    edited = copy.deepcopy(payload)
    edited["action"] = "edited"
    edited["changes"] = {"body": {"from": "/session list"}}
    edited["comment"]["body"] = "/session list\n/session help"

    assert bot.deliver("issue_comment", edited).status_code == 202
    bot.wait_until(bot.jobs_settled, what="the edit's command")

    assert [c["body"].split("\n", 1)[0].rsplit(" ", 2)[-2] for c in replies(fake_github, made)] == ["list", "help"]


def test_the_status_comment_is_finalised_when_the_pull_request_is_merged(bot, fake_github, running):
    bot.wait_until(lambda: _status_comments(fake_github), what="the status comment")
    pull = fake_github.actions.pulls[REPO][PR]
    pull.update(state="closed", merged=True, merged_at=hooks.iso(time.time()), closed_at=hooks.iso(time.time()),
                updated_at=hooks.iso(time.time() + 1))

    settle(bot, [("pull_request", hooks.pull_request("closed", fake_github, pull, INSTALLATION))])
    bot.wait_until(lambda: "was merged" in _status_comments(fake_github)[0]["body"], what="the final edit")

    with bot.engine.connect() as conn:
        assert conn.execute(select(db.status_comments.c.finalised)).scalar() is True


def test_a_stop_the_installation_lacks_actions_write_for_is_explained_once_and_not_retried(bot, fake_github):
    open_session(bot, fake_github, permissions={**default_permissions(), "actions": "read"})
    fake_github.permissions[(REPO, "hubot")] = "write"

    made, _ = comment(bot, fake_github, "/session stop")

    [refused] = fake_github.calls("POST", f"/repos/{REPO}/actions/runs/5151/cancel")
    assert refused.status == 403
    [reply] = replies(fake_github, made)
    assert "`actions: write`" in reply["body"]
    assert f"https://github.com/organizations/octo-org/settings/installations/{INSTALLATION}" in reply["body"]
    with bot.engine.connect() as conn:
        [job] = conn.execute(select(db.jobs).where(db.jobs.c.kind == "command")).all()
    assert (job.state, job.attempts) == ("done", 1)
    assert job.priority == URGENT  # a person waits for the answer: it goes before index updates
