"""The watchdog's decision (bot/sessions/watchdog.py), pure: a table of sessions, and properties over any."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sessions import watchdog
from bot.sessions.model import RUNNING, STATES
from bot.sessions.watchdog import UNFINISHED_AFTER, Limits, Verdict, holds, judge

T0 = 1_750_000_000.0
MIN = 60.0


def session(state="in_progress", *, created=T0, started=T0 + 30, finished=None, outcome=None, stuck=None,
            pr_number=7):
    if state not in RUNNING and finished is None:
        finished = T0 + 20 * MIN
    return SimpleNamespace(state=state, created_at=created, started_at=None if state == "queued" else started,
                           finished_at=finished, timeline_outcome=outcome, stuck=stuck, pr_number=pr_number)


DEFAULT = Limits()  # 15 minutes queued, 60 running, no auto-stop
STRICT = Limits(queued_minutes=5, running_minutes=20, auto_stop_after_minutes=30)


@pytest.mark.parametrize("row, limits, minutes, verdict", [
    # Queued: counted from creation.
    (session("queued"), DEFAULT, 15, Verdict(None)),
    (session("queued"), DEFAULT, 15.1, Verdict("queued", confirm=True)),
    (session("queued", stuck="queued"), DEFAULT, 40, Verdict("queued")),  # already marked: nothing to ask
    (session("queued"), STRICT, 5.5, Verdict("queued", confirm=True)),
    (session("queued"), STRICT, 500, Verdict("queued", confirm=True)),  # a queued session is never auto-stopped
    # Running: counted from the attempt's start, not the creation (it may have queued for long).
    (session(created=T0 - 50 * MIN), DEFAULT, 60, Verdict(None)),
    (session(), DEFAULT, 60.6, Verdict("running", confirm=True)),
    (session(stuck="queued"), DEFAULT, 61, Verdict("running", confirm=True)),  # the queued mark gives way
    (session(stuck="running"), DEFAULT, 300, Verdict("running")),
    (session(started=None), DEFAULT, 60.1, Verdict("running", confirm=True)),  # no start known: its creation
    (session(), STRICT, 20.4, Verdict(None)),
    (session(), STRICT, 21, Verdict("running", confirm=True)),
    (session(), STRICT, 31, Verdict("running", auto_stop=True, confirm=True)),
    (session(stuck="running"), STRICT, 31, Verdict("running", auto_stop=True)),
    (session(), Limits(auto_stop_after_minutes=10), 11, Verdict(None, auto_stop=True)),  # stops before it is stuck
    # Gone: GitHub said 404; it stays gone while the index says it runs, and is never stopped.
    (session(stuck="gone"), STRICT, 2, Verdict("gone")),
    (session("queued", stuck="gone"), DEFAULT, 100, Verdict("gone")),
    (session(stuck="gone"), STRICT, 300, Verdict("gone")),
    # Finished: unfinished once UNFINISHED_AFTER passed without the timeline saying so.
    (session("completed"), DEFAULT, 20 + UNFINISHED_AFTER / MIN, Verdict(None)),
    (session("completed"), DEFAULT, 21 + UNFINISHED_AFTER / MIN, Verdict("unfinished", confirm=True)),
    (session("cancelled"), DEFAULT, 100, Verdict("unfinished", confirm=True)),
    (session("failed", stuck="unfinished"), DEFAULT, 100, Verdict("unfinished")),
    (session("completed", outcome="finished"), DEFAULT, 100, Verdict(None)),
    (session("completed", outcome="finished", stuck="unfinished"), DEFAULT, 100, Verdict(None)),  # cleared
    (session("completed", stuck="running", outcome="finished"), DEFAULT, 100, Verdict(None)),  # cleared
    (session("completed", pr_number=None), DEFAULT, 100, Verdict(None)),  # no pull request, no timeline
    (session("timed_out", stuck="gone"), DEFAULT, 100, Verdict("unfinished", confirm=True)),
])
def test_judge(row, limits, minutes, verdict):
    assert judge(row, limits, T0 + minutes * MIN) == verdict


def test_a_run_that_answers_404_is_gone_and_not_stopped():
    assert judge(session(), STRICT, T0 + 31 * MIN, run_gone=True) == Verdict("gone")
    assert judge(session("queued"), DEFAULT, T0 + 2 * MIN, run_gone=True) == Verdict("gone")


@pytest.mark.parametrize("mark, state, outcome, expected", [
    ("queued", "queued", None, True), ("queued", "in_progress", None, False), ("queued", "completed", None, False),
    ("running", "in_progress", None, True), ("running", "queued", None, False), ("running", "failed", None, False),
    ("gone", "queued", None, True), ("gone", "in_progress", None, True), ("gone", "cancelled", None, False),
    ("unfinished", "completed", None, True), ("unfinished", "completed", "finished", False),
    ("unfinished", "queued", None, False),  # re-run: a new attempt
    (None, "in_progress", None, False),
])
def test_a_mark_holds_while_the_session_stays_as_it_was_marked(mark, state, outcome, expected):
    assert holds(mark, state, outcome) is expected


def test_only_queued_or_running_sessions_older_than_a_minute_could_be_past_a_limit():
    assert not watchdog.old_enough(session("queued"), T0 + MIN)
    assert watchdog.old_enough(session("queued"), T0 + MIN + 1)
    assert not watchdog.old_enough(session(created=T0 - 3600), T0 + 30 + MIN), "counted from its start"


sessions = st.builds(
    session, st.sampled_from(STATES), created=st.floats(T0 - 86_400, T0), started=st.floats(T0, T0 + 3600),
    finished=st.one_of(st.none(), st.floats(T0, T0 + 7200)),
    outcome=st.sampled_from([None, "finished", "failed"]), stuck=st.sampled_from((None, *watchdog.MARKS)),
    pr_number=st.sampled_from([None, 7]))
limits = st.builds(Limits, st.integers(1, 600), st.integers(1, 600), st.one_of(st.none(), st.integers(1, 600)))
moments = st.floats(T0, T0 + 3 * 86_400)


@settings(max_examples=500, deadline=None)
@given(sessions, limits, moments, st.booleans())
def test_a_verdict_fits_its_session(row, limits, now, gone):
    verdict = judge(row, limits, now, run_gone=gone)
    assert verdict.mark is None or holds(verdict.mark, row.state, row.timeline_outcome), "a mark it could keep"
    assert verdict.confirm == (verdict.mark is not None and verdict.mark != row.stuck and verdict.mark != "gone")
    assert not verdict.auto_stop or (row.state == "in_progress" and verdict.mark != "gone")


@settings(max_examples=500, deadline=None)
@given(sessions, limits, moments, st.floats(0, 86_400))
def test_later_never_unmarks_and_never_unstops(row, limits, now, later):
    first, then = judge(row, limits, now), judge(row, limits, now + later)
    assert first.mark is None or then.mark == first.mark
    assert not first.auto_stop or then.auto_stop


@settings(max_examples=500, deadline=None)
@given(sessions, limits, moments, st.integers(0, 600), st.integers(0, 600))
def test_looser_limits_never_mark_or_stop_more(row, limits, now, more_queued, more_running):
    looser = Limits(limits.queued_minutes + more_queued, limits.running_minutes + more_running, None)
    strict, loose = judge(row, limits, now), judge(row, looser, now)
    assert loose.mark in (None, strict.mark) and not loose.auto_stop
