"""What a command costs in GitHub calls when its delivery and its job may land on any process: gunicorn
with two workers (each running jobs) and a separate `bot.worker`, all sharing the caches in the database.

Counted as issue "One home per behaviour" counts them: every request to GitHub's API except minting
installation tokens and the status comment (the log archive's blob host is not the API).
"""

from __future__ import annotations

import pytest

from bot.handlers.status_comment import MARKER as STATUS_MARKER
from tests import agentlogs
from tests.copilot_pr import INSTALLATION, REPO, add_session, comment_payload, settle
from tests.fakegithub import payloads
from tests.integration.conftest import Bot

pytestmark = pytest.mark.slow
RUNNING, RUNNING_TOO, FINISHED = (7, 5151), (8, 5152), (9, 5153)


@pytest.fixture
def spread_bot(fake_github, app_key, database_url):
    """The bot as scaled out, with the caches' default periods (a minute). No config file in the
    repository. The grace-period check of a stop is minutes away: it is not part of the stop."""
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    fake_github.permissions[(REPO, "hubot")] = "write"
    bot = Bot(fake_github, app_key, database_url, REPO_CONFIG_CACHE_SECONDS=60, PERMISSION_CACHE_SECONDS=60,
              STOP_GRACE_SECONDS=600)
    bot.start_web(workers=2)
    bot.start_worker()
    log = agentlogs.AgentLog()
    agentlogs.opening(log)
    log.final("Done.")
    archive = agentlogs.run_logs_zip(log.sink.getvalue())
    settle(bot, [("installation", _installed(fake_github))] + add_session(fake_github, *RUNNING, finished=False)
           + add_session(fake_github, *RUNNING_TOO, finished=False)
           + add_session(fake_github, *FINISHED, finished=True, archive=archive))
    yield bot
    bot.stop()


def _installed(fake) -> dict:
    """`installation.created`: the bot indexes the repository, so a command's repository is known."""
    created = payloads.with_installation(payloads.example("installation", "created"), INSTALLATION)
    created["installation"]["account"] = fake.installations[INSTALLATION]["account"]
    created["repositories"] = [{k: fake.repositories[REPO.lower()][k]
                                for k in ("id", "node_id", "name", "full_name", "private")}]
    return created


def calls(bot, fake, pr: int, body: str) -> list[str]:
    """hubot comments `body` on PR `pr`; the counted calls until every job it caused is done."""
    mark = len(fake.requests)
    _, payload = comment_payload(fake, body, pr=pr)
    assert bot.deliver("issue_comment", payload).status_code == 202
    bot.wait_until(bot.jobs_settled, what="the comment's jobs")
    return [_name(r) for r in fake.requests[mark:] if _counted(r)]


def _counted(request) -> bool:
    status_comment = request.method in ("POST", "PATCH") and (
        (request.json or {}).get("body") or "").startswith(STATUS_MARKER)
    return request.host == "api" and not request.path.endswith("/access_tokens") and not status_comment


def _name(request) -> str:
    path = request.path.removeprefix(f"/repos/{REPO}")
    for part, name in (("/reactions", "reaction"), ("/collaborators/", "permission"), ("/contents/", "config"),
                       ("/cancel", "cancel"), ("/logs", "download"), ("/comments", "reply"), ("/timeline", "timeline")):
        if part in path:
            return name
    return f"{request.method} {path}"


def test_commands_cost_the_same_few_calls_whichever_process_runs_them(spread_bot, fake_github):
    bot = spread_bot
    # The set-up's status comments read the config (a 404: no file; two processes missing it at once may
    # both ask); that answer serves every process since.
    assert calls(bot, fake_github, RUNNING[0], "/session stop") == ["reaction", "permission", "cancel", "reply"]
    assert calls(bot, fake_github, RUNNING_TOO[0], "/session stop") == ["reaction", "cancel", "reply"]
    assert calls(bot, fake_github, FINISHED[0], "/session log") == ["reaction", "download", "reply"]
    assert calls(bot, fake_github, FINISHED[0], "/session log") == ["reaction", "reply"]


def test_a_comment_without_a_command_costs_no_call(spread_bot, fake_github):
    assert calls(spread_bot, fake_github, RUNNING[0], "Looks good to me, thanks!") == []
    assert calls(spread_bot, fake_github, RUNNING[0], "/tmp is full again") == []  # a slash, but no command
