"""The status comment, in process: its hint names the commands with the repository's own prefix."""

from __future__ import annotations

import pytest

from bot.commands.registry import hint
from bot.handlers.status_comment import MARKER
from tests.harness.inprocess import InProcessBot

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url)
    yield bot
    bot.dispose()


@pytest.mark.parametrize("config, prefix", [(None, "/session"), ("prefix: /agent\n", "/agent")])
def test_the_hint_names_the_commands_with_the_repositorys_prefix(bot, fake_github, config, prefix):
    """Before: the hint said `/session list` in a repository whose commands start with `/agent`."""
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    if config:
        fake_github.set_file(REPO, ".github/session-bot.yml", config)

    bot.open_session(INSTALLATION, REPO, PR, RUN)

    [status] = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    assert status["body"].endswith("\n\n" + hint(prefix))
    assert f"`{prefix} list`" in status["body"] and (prefix == "/session" or "/session" not in status["body"])
