"""The watchdog (bot/handlers/watchdog.py), in process against the fake GitHub, run by the queue as in
production on a clock the test moves: each kind of stuck session marked, shown in the status comment
and on the Agents page, its starter mentioned once however many checks see it, the automatic stop
sent once, a repository's own limits, and no GitHub call for sessions that are fine."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot import db, notices, schedule
from bot.config import Settings
from bot.handlers.status_comment import MARKER
from bot.sessions.watchdog import UNFINISHED_AFTER
from tests import sessions_payloads as hooks
from tests.clock import Clock
from tests.copilot_pr import comment_payload
from tests.harness.inprocess import InProcessBot
from tests.markdown_oracle import live
from tests.openapi_check import conforms

INSTALLATION, REPO, PR, RUN = 88, "octo-org/app", 7, 5151
CONFIG = ".github/session-bot.yml"
RUN_PATH = f"/repos/{REPO}/actions/runs/{RUN}"
TOKEN = "admin-" + "x" * 32
MINUTE = 60.0


@pytest.fixture
def bot(fake_github, app_key, database_url):
    bot = InProcessBot(fake_github, app_key, database_url, admin_token=TOKEN)
    yield bot
    bot.dispose()


class Watchdog:
    """The periodic job on the queue, its clock moved by the test: `at(61)` runs every check due
    61 minutes after the session was created (and whatever those checks queued)."""

    def __init__(self, bot, created_at: float):
        self.bot, self.created_at = bot, created_at
        self.clock = Clock(time.time())
        bot.runtime.queue.clock = self.clock
        schedule.schedule_next(bot.runtime, "watchdog", bot.runtime.settings.watchdog_interval)

    def at(self, minutes: float) -> list[str]:
        self.clock.now = max(self.clock.now, self.created_at + minutes * MINUTE)
        ran = self.bot.drain()
        assert all(state == "done" for _kind, state, _error in ran), ran
        return [kind for kind, _state, _error in ran]


def open_session(bot, fake_github, *, status="in_progress", starter="monalisa", config=None):
    """A Copilot PR with its first session (queued or running) indexed, `config` its repository's
    `.github/session-bot.yml` from the start (a config read is cached); the run."""
    fake_github.add_installation(INSTALLATION, "octo-org", [REPO])
    if config:
        fake_github.set_file(REPO, CONFIG, config)
    t0 = float(int(time.time()) - 120)
    run = add_run(fake_github, t0, status=status, starter=starter)
    pull = fake_github.add_pull(REPO, PR, created_at=t0 + 20, head_branch=f"copilot/fix-{RUN}")
    bot.settle([("pull_request", hooks.pull_request("opened", fake_github, pull, INSTALLATION)),
                ("workflow_run", hooks.workflow_run("requested" if status == "queued" else status, fake_github, run,
                                                    INSTALLATION))])
    return run


def add_run(fake_github, t0: float, *, status: str, starter: str = "monalisa", conclusion: str | None = None,
            updated_at: float | None = None) -> dict:
    """The session's run as GitHub serves it: created at `t0`, started a second later unless queued."""
    return fake_github.add_run(REPO, RUN, status=status, conclusion=conclusion, pull_requests=[PR], created_at=t0,
                               run_started_at=t0 + 1, updated_at=updated_at or t0 + 5, triggering_actor=starter,
                               head_branch=f"copilot/fix-{RUN}")


def mark(bot) -> str | None:
    return bot.session_row(RUN).stuck


def status_comment(fake_github) -> str:
    [comment] = [c for c in fake_github.comments_on(REPO, PR) if c["body"].startswith(MARKER)]
    return comment["body"]


def notices_posted(fake_github, kind="stuck") -> list[str]:
    return [c["body"] for c in fake_github.comments_on(REPO, PR) if c["body"].startswith(notices.marker(RUN, kind))]


def run_reads(fake_github) -> int:
    return len(fake_github.calls("GET", RUN_PATH))


@pytest.mark.parametrize("starter, mention", [("monalisa", "@monalisa session 1"), ("Copilot", "Session 1")])
def test_a_session_running_past_its_limit_is_marked_and_its_starter_told_once(bot, fake_github, starter, mention):
    open_session(bot, fake_github, starter=starter)
    watchdog = Watchdog(bot, bot.session_row(RUN).created_at)

    watchdog.at(59)
    assert mark(bot) is None and run_reads(fake_github) == 0, "within its limit: nothing asked of GitHub"

    watchdog.at(62)
    assert mark(bot) == "running" and run_reads(fake_github) == 1, "its run asked about once, before marking"
    assert "| **🟢 running** · stuck for 61 min |" in status_comment(fake_github)
    [notice] = notices_posted(fake_github)
    assert notice.split("\n", 1)[1].startswith(f"{mention} has been running for 61 minutes")
    assert "limit of 60" in notice and "`/session stop 1`" in notice and f"]({bot.session_row(RUN).html_url})" in notice
    assert ("@" in notice) == (starter == "monalisa"), "nobody mentioned when nobody is known to have started it"
    found = live(notice.split("\n", 1)[1])  # GitHub's renderer: the starter and the run's link alone are live
    assert found.mentions == (["@m"] if starter == "monalisa" else []) and found.links == [bot.session_row(RUN).html_url]
    assert not found.elements and not found.images and not found.references

    for minutes in range(63, 75):
        watchdog.at(minutes)
    assert len(notices_posted(fake_github)) == 1 and run_reads(fake_github) == 1, "told once, asked once"
    assert not fake_github.calls("POST", f"{RUN_PATH}/*"), "no auto_stop_after_minutes: never stopped"


def test_a_session_queued_past_its_limit_is_marked_until_it_starts(bot, fake_github):
    run = open_session(bot, fake_github, status="queued")
    watchdog = Watchdog(bot, bot.session_row(RUN).created_at)
    watchdog.at(14)
    assert mark(bot) is None

    watchdog.at(16)
    assert mark(bot) == "queued"
    assert "| **⏳ queued** · stuck for 16 min |" in status_comment(fake_github)
    [notice] = notices_posted(fake_github)
    assert "@monalisa session 1 has been queued for 16 minutes" in notice and "no runner" in notice

    started = hooks.run_at(run, "in_progress", at=watchdog.clock.now)
    bot.settle([("workflow_run", hooks.workflow_run("in_progress", fake_github, started, INSTALLATION))])
    assert mark(bot) is None, "it started: no longer stuck in the queue"
    assert "stuck" not in status_comment(fake_github)
    watchdog.at(30)
    assert mark(bot) is None and len(notices_posted(fake_github)) == 1


def test_a_finish_the_timeline_never_showed_is_marked_after_a_fresh_look_and_cleared_when_it_shows(bot, fake_github):
    run = open_session(bot, fake_github)
    created = bot.session_row(RUN).created_at
    fake_github.add_timeline_event(REPO, PR, "copilot_work_started", actor="monalisa", created_at=created + 2)
    ended = hooks.run_at(run, "completed", conclusion="success", at=created + 5 * MINUTE)
    bot.settle([("workflow_run", hooks.workflow_run("completed", fake_github, ended, INSTALLATION))])
    watchdog = Watchdog(bot, created)
    timeline = f"/repos/{REPO}/issues/{PR}/timeline"

    watchdog.at(5 + UNFINISHED_AFTER / MINUTE - 1)
    reads = len(fake_github.calls("GET", timeline))
    assert mark(bot) is None

    watchdog.at(5 + UNFINISHED_AFTER / MINUTE + 1)
    assert mark(bot) == "unfinished" and len(fake_github.calls("GET", timeline)) == reads + 1, "read once more first"
    assert "| ✅ completed · Copilot never said it finished |" in status_comment(fake_github)
    [notice] = notices_posted(fake_github)
    assert "ended (completed) 11 minutes ago" in notice and "never showed Copilot finishing" in notice
    assert "`/session log 1`" in notice
    watchdog.at(30)
    assert len(fake_github.calls("GET", timeline)) == reads + 1 and len(notices_posted(fake_github)) == 1

    # The finish shows at last (read after a pull request event): the next check clears the mark.
    fake_github.add_timeline_event(REPO, PR, "copilot_work_finished", actor="Copilot", created_at=created + 4 * MINUTE)
    pull = fake_github.actions.pulls[REPO][PR]
    bot.settle([("pull_request", hooks.pull_request("synchronize", fake_github, pull, INSTALLATION))])
    watchdog.at(45)
    assert mark(bot) is None and "never said" not in status_comment(fake_github)


def test_a_session_whose_run_is_gone_is_marked_gone_and_never_stopped(bot, fake_github):
    open_session(bot, fake_github, config="auto_stop_after_minutes: 30\n")
    watchdog = Watchdog(bot, bot.session_row(RUN).created_at)
    del fake_github.actions.runs[REPO][RUN]

    watchdog.at(31)
    assert mark(bot) == "gone" and run_reads(fake_github) == 1
    assert "· its run is gone from GitHub |" in status_comment(fake_github)
    [notice] = notices_posted(fake_github)
    assert "no longer has its run" in notice and "answers 404" in notice
    for minutes in range(32, 70, 5):
        watchdog.at(minutes)
    assert run_reads(fake_github) == 1 and not fake_github.calls("POST", f"{RUN_PATH}/*"), "nothing to cancel"
    assert not notices_posted(fake_github, "auto_stop") and len(notices_posted(fake_github)) == 1


def test_a_run_that_ended_without_its_webhook_is_taken_into_the_index_not_marked(bot, fake_github):
    open_session(bot, fake_github)
    created = bot.session_row(RUN).created_at
    add_run(fake_github, created, status="completed", conclusion="success", updated_at=created + 55 * MINUTE)
    watchdog = Watchdog(bot, created)
    watchdog.at(61)
    assert bot.session_row(RUN).state == "completed" and mark(bot) is None and not notices_posted(fake_github)
    assert "| ✅ completed |" in status_comment(fake_github)


def test_auto_stop_cancels_once_with_its_reason_and_says_so_once(bot, fake_github):
    open_session(bot, fake_github, config="auto_stop_after_minutes: 30\n")
    watchdog = Watchdog(bot, bot.session_row(RUN).created_at)
    watchdog.at(29)
    assert not fake_github.calls("POST", f"{RUN_PATH}/cancel")

    for minutes in range(31, 40):  # the index hears of no cancel: the session still looks running
        watchdog.at(minutes)
    assert len(fake_github.calls("POST", f"{RUN_PATH}/cancel")) == 1
    with bot.engine.connect() as conn:
        stops = conn.execute(select(db.session_stops.c.stopped_by, db.session_stops.c.via,
                                    db.session_stops.c.reason)).all()
    assert [tuple(s) for s in stops] == [("session-bot", "watchdog", "auto-stop")]
    [notice] = notices_posted(fake_github, "auto_stop")
    assert notice.split("\n", 1)[1].startswith("@monalisa session 1 has been running for 30 minutes")
    assert "`auto_stop_after_minutes` (30)" in notice and '"auto-stop"' in notice
    assert not notices_posted(fake_github), "the automatic stop's notice is the one mention"

    # Past the running limit the watchdog asks about the run, and learns the cancel took. The finish the
    # timeline never showed is then the stop's to report (its verification), not the watchdog's.
    for minutes in range(60, 80, 5):
        watchdog.at(minutes)
    assert bot.session_row(RUN).state == "cancelled"
    assert len(fake_github.calls("POST", f"{RUN_PATH}/*")) == 1 and not notices_posted(fake_github)
    assert len(notices_posted(fake_github, "auto_stop")) == 1


@pytest.mark.parametrize("config, at, limit", [
    (None, 21, None),
    ("stuck:\n  queued_minutes: 5\n  running_minutes: 20\n", 21, 20),
    ("stuck:\n  running_minutes: 120\n", 62, None),
    ("stuck:\n  running_minutes: 120\n", 122, 120),
])
def test_a_repository_sets_its_own_limits(bot, fake_github, config, at, limit):
    open_session(bot, fake_github, config=config)
    Watchdog(bot, bot.session_row(RUN).created_at).at(at)
    assert mark(bot) == ("running" if limit else None)
    if limit:
        assert f"limit of {limit} (`stuck.running_minutes`)" in notices_posted(fake_github)[0]


@pytest.fixture
def uncached(fake_github, app_key, database_url):
    """A bot that reads a repository's config each time it needs it: every read shows."""
    bot = InProcessBot(fake_github, app_key, database_url, config_cache_ttl=0.0)
    yield bot
    bot.dispose()


def test_sessions_that_are_fine_cost_no_call_but_their_repositorys_config(uncached, fake_github):
    open_session(uncached, fake_github)
    watchdog = Watchdog(uncached, uncached.session_row(RUN).created_at)
    before = len(fake_github.requests)
    for minutes in range(3, 60, 4):
        watchdog.at(minutes)
    asked = {r.path for r in fake_github.requests[before:]}
    assert asked == {f"/repos/{REPO}/contents/{CONFIG}"}, "its repository's limits, nothing about the run"


def test_a_session_too_young_for_any_limit_costs_not_even_its_repositorys_config(uncached, fake_github):
    open_session(uncached, fake_github)
    watchdog = Watchdog(uncached, time.time())
    with uncached.engine.begin() as conn:  # a new attempt started: it is 30 s into it when the check runs
        conn.execute(db.sessions.update().values(started_at=watchdog.created_at + 30))
    before = len(fake_github.requests)
    assert "watchdog" in watchdog.at(1)
    assert fake_github.requests[before:] == []


def test_the_mark_shows_in_session_list_on_the_agents_page_and_in_the_api(bot, fake_github):
    open_session(bot, fake_github)
    Watchdog(bot, bot.session_row(RUN).created_at).at(62)
    session_id = bot.session_row(RUN).id

    bot.settle([("issue_comment", comment_payload(fake_github, "/session list", installation=INSTALLATION,
                                                  repo=REPO, pr=PR)[1])])
    [reply] = [c["body"] for c in fake_github.comments_on(REPO, PR) if c["body"].startswith("<!-- session-bot:reply")]
    assert "| 1 | 🟢 running · stuck for 61 min |" in reply
    client, bearer = bot.app.test_client(), {"Authorization": f"Bearer {TOKEN}"}

    listing = client.get("/sessions", headers=bearer).get_data(as_text=True)
    assert 'data-field="stuck-word">running too long</span>' in listing
    page = client.get(f"/sessions/{session_id}", headers=bearer).get_data(as_text=True)
    assert 'id="stuck-note" data-stuck="running"' in page and "it may be stuck" in page

    response = client.get(f"/api/sessions/{session_id}", headers=bearer)
    conforms(response, "GET", f"/api/sessions/{session_id}")
    assert (response.json["stuck"], response.json["stuck_label"]) == ("running", "running too long")
    assert response.json["stuck_at"] is not None
    listed = client.get("/api/sessions", headers=bearer)
    conforms(listed, "GET", "/api/sessions")
    assert listed.json["sessions"][0]["stuck"] == "running"


def test_the_watchdog_is_off_at_zero():
    assert schedule.PERIODIC["watchdog"].interval(Settings()) == 60
    assert schedule.PERIODIC["watchdog"].interval(Settings(watchdog_interval=0.0)) == 0
