"""The session index on SQLite and PostgreSQL: merging, numbering, linking, queries and counts."""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from bot.db import sessions
from bot.sessions import model, queries, store

REPO_ID, REPO = 501, "octo-org/app"
FORK_ID = 666  # mallory/app, a fork of octo-org/app
LOGINS = ("Copilot", "copilot-swe-agent[bot]")
T0 = 1_750_000_000.0


def record(created: float, *, status: str = "completed", conclusion: str | None = "success", attempt: int = 1,
           updated: float | None = None, pr: int | None = 7, branch: str = "copilot/fix-login",
           starter: str | None = None, head_repository_id: int | None = REPO_ID) -> model.Record:
    return model.Record(run_attempt=attempt, status=status, conclusion=conclusion if status == "completed" else None,
                        run_updated_at=updated or created + 60, started_at=created + 5, created_at=created,
                        head_branch=branch, head_repository_id=head_repository_id, pr_number=pr, run_starter=starter, triggering_actor=starter or "Copilot",
                        html_url=f"https://github.com/{REPO}/actions/runs/{int(created)}")


def observe(engine, run_id: int, rec: model.Record, *, installation_id: int = 1, repository_id: int = REPO_ID,
            backfilled: bool = False):
    return store.observe(engine, installation_id=installation_id, repository_id=repository_id,
                         repository=REPO if repository_id == REPO_ID else f"octo-org/r{repository_id}",
                         run_id=run_id, record=rec, backfilled=backfilled)


def numbers(engine, pr: int = 7) -> dict[int, int]:
    with engine.connect() as conn:
        return {row.run_id: row.number for row in queries.sessions_of_pull(conn, REPO_ID, pr)}


def pull(number: int, branch: str, *, updated: str = "2025-06-15T10:00:00Z", author: str = "Copilot",
         head_repository_id: int | None = REPO_ID) -> dict:
    head_repo = {"id": head_repository_id} if head_repository_id else None  # None: the fork was deleted
    return {"id": 9000 + number, "number": number, "title": "[WIP] Fix login", "state": "open", "draft": True,
            "user": {"login": author}, "assignees": [{"login": "monalisa"}],
            "head": {"ref": branch, "repo": head_repo}, "base": {"ref": "main", "repo": {"id": REPO_ID}},
            "html_url": f"https://github.com/{REPO}/pull/{number}", "created_at": "2025-06-15T10:00:00Z",
            "updated_at": updated, "merged_at": None}


def test_sessions_of_a_pull_request_are_numbered_in_start_order(engine):
    for run_id, start in ((11, T0), (12, T0 + 600), (13, T0 + 1200)):
        observe(engine, run_id, record(start))
    assert numbers(engine) == {11: 1, 12: 2, 13: 3}


def test_a_number_never_changes_and_an_older_run_found_later_takes_the_next_free_one(engine):
    observe(engine, 12, record(T0 + 600))
    observe(engine, 13, record(T0 + 1200))
    observe(engine, 12, record(T0 + 600, updated=T0 + 900))  # a later event of a numbered session

    observe(engine, 11, record(T0), backfilled=True)  # backfill finds an older run

    assert numbers(engine) == {12: 1, 13: 2, 11: 3}


def test_sessions_on_a_branch_are_linked_and_numbered_oldest_first_when_the_pull_request_appears(engine):
    observe(engine, 22, record(T0 + 600, pr=None))
    observe(engine, 21, record(T0, pr=None))
    observe(engine, 30, record(T0, pr=None, branch="copilot/other"))

    linked = store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO,
                                pull=pull(7, "copilot/fix-login"))
    observe(engine, 23, record(T0 + 1200, pr=None))  # a later run on the branch links by branch

    assert sorted(linked) == [21, 22]
    assert numbers(engine) == {21: 1, 22: 2, 23: 3}


@pytest.mark.parametrize("fork_id", [FORK_ID, None], ids=["fork", "deleted fork"])
def test_a_fork_pull_request_on_a_branch_of_the_same_name_never_captures_the_agents_runs(engine, fork_id):
    observe(engine, 21, record(T0, pr=None, branch="copilot/fix-42"))  # GitHub gave no pull_requests

    captured = store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO,
                                  pull=pull(8, "copilot/fix-42", author="mallory", head_repository_id=fork_id))
    observe(engine, 22, record(T0 + 600, pr=None, branch="copilot/fix-42"))

    assert captured == []
    assert numbers(engine, 8) == {}
    linked = store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO,
                                pull=pull(9, "copilot/fix-42"))
    assert sorted(linked) == [21, 22], "the agent's own pull request still gets its sessions"
    assert numbers(engine, 9) == {21: 1, 22: 2}
    observe(engine, 23, record(T0 + 1200, pr=None, branch="copilot/fix-42"))
    assert numbers(engine, 9) == {21: 1, 22: 2, 23: 3}, "a later run joins the same-repository pull request"


def test_a_run_on_a_persons_own_pull_requests_branch_joins_it(engine):
    store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO,
                       pull=pull(12, "feature/login", author="monalisa"))

    row = observe(engine, 31, record(T0, pr=None, branch="feature/login"))

    assert (row.pr_number, row.number) == (12, 1)


def test_an_older_pull_request_event_does_not_overwrite_a_newer_one(engine):
    newer = pull(7, "copilot/fix-login", updated="2025-06-15T11:00:00Z") | {"title": "Fix login"}
    store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO, pull=newer)
    store.observe_pull(engine, installation_id=1, repository_id=REPO_ID, repository=REPO,
                       pull=pull(7, "copilot/fix-login"))
    with engine.connect() as conn:
        assert conn.execute(select(store.pull_requests.c.title)).scalar() == "Fix login"


def test_the_stored_session_is_the_same_whatever_order_its_events_arrive_in(engine):
    events = [record(T0, status="requested", updated=T0), record(T0, status="in_progress", updated=T0 + 10),
              record(T0, status="completed", conclusion="failure", updated=T0 + 300, starter="monalisa")]
    seen = set()
    for run_id, order in enumerate(itertools.permutations(events), start=100):
        for rec in order + order[:1]:
            row = observe(engine, run_id, rec)
        seen.add((row.state, row.status, row.conclusion, row.run_updated_at, row.started_at, row.finished_at,
                  row.starter, row.starter_source, row.created_at))
    assert seen == {("failed", "completed", "failure", T0 + 300, T0 + 5, T0 + 300, "monalisa", "run", T0)}


def test_the_timeline_names_starters_the_runs_did_not(engine):
    observe(engine, 11, record(T0))
    observe(engine, 12, record(T0 + 3600, starter="hubot"))
    timeline = [
        {"event": "copilot_work_started", "actor": {"login": "monalisa", "type": "User"},
         "created_at": model_time(T0 - 3)},
        {"event": "copilot_work_finished", "actor": {"login": "Copilot", "type": "Bot"},
         "created_at": model_time(T0 + 600)},
        {"event": "copilot_work_started", "actor": {"login": "octocat", "type": "User"},
         "created_at": model_time(T0 + 3602)},
    ]
    assert store.apply_timeline(engine, REPO_ID, 7, timeline, LOGINS) == 1
    assert store.apply_timeline(engine, REPO_ID, 7, timeline, LOGINS) == 0, "the same timeline changes nothing"
    with engine.connect() as conn:
        rows = {r.run_id: (r.starter, r.starter_source, r.timeline_outcome)
                for r in queries.sessions_of_pull(conn, REPO_ID, 7)}
    assert rows == {11: ("monalisa", "timeline", "finished"), 12: ("hubot", "run", None)}


def committed(sha: str, message: str, at: float, author: str = "copilot-swe-agent[bot]") -> dict:
    return {"event": "committed", "sha": sha, "message": message,
            "author": {"name": author, "email": "x@example.com", "date": model_time(at)},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": model_time(at)}}


def test_a_sessions_progress_is_the_commits_made_while_it_ran_kept_redacted(engine):
    observe(engine, 11, record(T0))  # finished at T0 + 60
    observe(engine, 12, record(T0 + 3600, status="in_progress"))
    secret = "ghp_" + "a1B2" * 9
    timeline = [committed("a" * 40, "Initial plan", T0 + 10), committed("b" * 40, f"Add the parser {secret}", T0 + 50),
                committed("c" * 40, "A person's fix", T0 + 1800, author="monalisa"),
                committed("d" * 40, "Second session's plan", T0 + 3700), committed("d" * 40, "listed twice", T0 + 3700),
                {"event": "committed", "sha": None}]  # malformed: skipped
    store.apply_timeline(engine, REPO_ID, 7, timeline, LOGINS)
    store.apply_timeline(engine, REPO_ID, 7, timeline, LOGINS)  # read again: nothing doubled
    with engine.connect() as conn:
        first, second = queries.sessions_of_pull(conn, REPO_ID, 7)
        progress = [(c.sha[0], c.message) for c in queries.commits_of_session(conn, first)]
        running = [(c.sha[0], c.author) for c in queries.commits_of_session(conn, second)]
    assert progress == [("a", "Initial plan"), ("b", "Add the parser [redacted]")]
    assert running == [("d", "copilot-swe-agent[bot]")]


def model_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@pytest.fixture
def indexed(engine):
    """Twelve sessions over two installations, three repositories and several states and starters."""
    states = [("completed", "success"), ("completed", "failure"), ("in_progress", None), ("queued", None)]
    for n in range(12):
        status, conclusion = states[n % 4]
        observe(engine, 1000 + n, record(T0 + n * 60, status=status, conclusion=conclusion, pr=n % 3 + 1,
                                         starter=["monalisa", "hubot", None][n % 3]),
                installation_id=1 if n < 9 else 2, repository_id=REPO_ID + n % 3)
    return engine


def test_keyset_pages_list_every_session_once_newest_first(indexed):
    seen, cursor = [], None
    with indexed.connect() as conn:
        while True:
            page = queries.list_sessions(conn, installation_id=1, limit=4, cursor=cursor)
            seen += [row.run_id for row in page.items]
            if page.cursor is None:
                break
            cursor = page.cursor
    assert seen == [1008 - n for n in range(9)]


@pytest.mark.parametrize("filters, expected", [
    (dict(state="completed"), [1008, 1004, 1000]),
    (dict(state="failed"), [1009, 1005, 1001]),
    (dict(starter="hubot"), [1010, 1007, 1004, 1001]),
    (dict(repository_id=REPO_ID + 1), [1010, 1007, 1004, 1001]),
    (dict(repository_id=REPO_ID, pr_number=1), [1009, 1006, 1003, 1000]),
    (dict(installation_id=2, state="in_progress"), [1010]),
])
def test_sessions_by_state_user_repository_and_pull_request(indexed, filters, expected):
    with indexed.connect() as conn:
        assert [row.run_id for row in queries.list_sessions(conn, **filters).items] == expected


def test_a_bad_cursor_is_refused(indexed):
    with indexed.connect() as conn, pytest.raises(ValueError, match="not a session cursor"):
        queries.list_sessions(conn, cursor="nonsense")


def test_uninstalling_forgets_the_installations_sessions(indexed):
    store.forget(indexed, installation_id=1)
    with indexed.connect() as conn:
        assert conn.execute(select(sessions.c.installation_id).distinct()).scalars().all() == [2]


def test_a_backfill_budget_is_granted_once_a_day_per_installation_whatever_delivery_asks(engine):
    """Before: granted once per delivery id, so the same signed body replayed under a new id granted it again."""
    store.grant_budget(engine, 9, 3, now=T0)
    assert [store.spend_budget(engine, 9) for _ in range(2)] == [True, True]

    store.grant_budget(engine, 9, 3, now=T0 + 60)  # a replayed installation delivery, a minute later
    assert [store.spend_budget(engine, 9) for _ in range(2)] == [True, False]

    store.grant_budget(engine, 9, 3, now=T0 + store.BUDGET_PERIOD + 1)  # the next day: a new backfill may run
    assert store.spend_budget(engine, 9)
