"""Commands act only on the repository their delivery came from, under an installation covering it,
and never show another installation's sessions.

Who may stop (repository permission; the starter while they can read) is covered end to end in
tests/integration/test_commands.py (test_who_may_stop, test_a_repository_can_list_who_may_stop);
here, that being the pull request's author grants nothing.
"""

from __future__ import annotations

import pytest

from tests.copilot_pr import comment_payload, replies
from tests.harness.inprocess import InProcessBot

A_INST, A_REPO = 88, "octo-org/app"
B_INST, B_REPO = 99, "other-org/secret"
PR = 7
A_RUN, B_RUN = 5151, 6262


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url)
    bot.open_session(A_INST, A_REPO, PR, A_RUN)
    bot.open_session(B_INST, B_REPO, PR, B_RUN)  # another installation: the same PR and session numbers
    yield bot
    bot.dispose()


def comment(bot, body: str, *, installation=A_INST, repo=A_REPO, login="hubot", claimed=None):
    made, payload = comment_payload(bot.fake, body, login=login, installation=installation, repo=repo, pr=PR,
                                    claimed_repository=claimed)
    ran = bot.settle([("issue_comment", payload)])
    return made, ran


def cancels(fake) -> list[str]:
    return [r.path for r in fake.calls("POST", "*/cancel")]


def test_a_delivery_for_a_repository_its_installation_does_not_cover_does_nothing_and_says_why(bot, fake_github):
    fake_github.permissions[(B_REPO, "hubot")] = "admin"
    # Installation A's delivery, for a comment in B's repository (which only installation B covers).
    made, ran = comment(bot, "/session stop 1\n/session list", installation=A_INST, repo=B_REPO)

    assert ran == [("delivery", "dead")]
    assert cancels(fake_github) == [] and replies(fake_github, made, repo=B_REPO) == []
    assert made["id"] not in fake_github.reactions
    [error] = bot.dead_errors()
    assert f"installation {A_INST} does not cover repository {B_REPO}" in error


@pytest.mark.parametrize("command", ["/session stop 1", "/session list"])
def test_a_delivery_naming_another_repositorys_id_does_nothing(bot, fake_github, command):
    """Installation A's repository by name, B's by id: B's sessions (same PR and number) are neither
    cancelled nor shown."""
    fake_github.permissions[(A_REPO, "hubot")] = "admin"
    claimed = dict(bot.fake.repositories[A_REPO], id=bot.fake.repositories[B_REPO]["id"])

    made, ran = comment(bot, command, claimed=claimed)

    assert ran == [("delivery", "dead")]
    assert cancels(fake_github) == [] and replies(fake_github, made, repo=A_REPO) == []


def test_stop_cancels_only_the_run_of_the_commented_repository(bot, fake_github):
    fake_github.permissions[(A_REPO, "hubot")] = "admin"

    comment(bot, "/session stop 1")

    assert cancels(fake_github) == [f"/repos/{A_REPO}/actions/runs/{A_RUN}/cancel"]


@pytest.mark.parametrize("command", ["/session list", "/session log", "/session stop all"])
def test_another_installations_sessions_never_show(bot, fake_github, command):
    made, _ = comment(bot, command)

    [reply] = replies(fake_github, made, repo=A_REPO)
    assert str(B_RUN) not in reply["body"] and B_REPO not in reply["body"] and "other-org" not in reply["body"]
    if command == "/session list":
        assert f"/{A_REPO}/actions/runs/{A_RUN}" in reply["body"]


def test_the_pull_requests_author_may_not_stop_without_write_access(bot, fake_github):
    fake_github.actions.pulls[A_REPO][PR]["user"]["login"] = "carol"  # carol opened it; monalisa started the session
    fake_github.permissions[(A_REPO, "carol")] = "read"

    made, _ = comment(bot, "/session stop", login="carol")

    assert cancels(fake_github) == []
    assert "Only people with write access" in replies(fake_github, made, repo=A_REPO)[0]["body"]
