"""Secrets never reach the logs: the webhook secret, the installation tokens GitHub issued, the
App's JWTs and its private key, with the bot at LOG_LEVEL=debug under gunicorn, through commands
that call GitHub and GitHub errors that get logged."""

from __future__ import annotations

import pytest

from tests.copilot_pr import PR, REPO, comment, open_session
from tests.fakegithub import auth, payloads
from tests.integration.conftest import SECRET, Bot

pytestmark = pytest.mark.slow


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = Bot(fake_github, app_key, database_url, LOG_LEVEL="debug", LOG_FORMAT="json")
    yield bot
    bot.stop()


def test_no_secret_reaches_the_logs(bot, fake_github, app_key):
    open_session(bot, fake_github)
    fake_github.permissions[(REPO, "hubot")] = "write"
    comment(bot, fake_github, "/session list")
    comment(bot, fake_github, "/session stop")
    # GitHub failing: a 502 on the reply (retried, logged), and a refused token (401, logged).
    fake_github.fail("POST", f"/repos/{REPO}/issues/{PR}/comments", status=502, times=2)
    comment(bot, fake_github, "/session help")
    with fake_github.expect_auth_failures():
        for token in list(fake_github.tokens.values()):
            token.expires_at = 0  # GitHub now refuses every token it issued: the bot logs and renews
        comment(bot, fake_github, "/session log")
    refused = payloads.deliver(bot.webhook_url, "issue_comment", {"zen": "forged"}, "not-the-secret")
    assert refused.status_code == 401  # and logged

    for line in ("GitHub answered 502", "signature missing or wrong", '"level": "debug"'):
        bot.web.wait_for(line)  # the logs were captured (their reader thread may lag behind)
    output = bot.web.text()
    credentials = {auth.split_authorization(r.headers.get("authorization"))[2] for r in fake_github.requests}
    jwts = {c for c in credentials if c and c.count(".") == 2}
    tokens = set(fake_github.tokens)
    assert jwts and len(tokens) >= 2, "the bot authenticated as the App and got tokens"
    key_lines = [line for line in app_key.pem.splitlines() if line and not line.startswith("-----")]
    secrets = {"webhook secret": [SECRET], "installation token": sorted(tokens), "JWT": sorted(jwts),
               "private key line": key_lines}
    for what, values in secrets.items():
        for value in values:
            assert value not in output, f"a {what} is in the logs"
            assert value[:24] not in output, f"the start of a {what} is in the logs"
