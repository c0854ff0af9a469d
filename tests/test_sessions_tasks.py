"""Copilot tasks in the index (bot/sessions/task_model.py, bot/sessions/tasks.py): GitHub's answers read
into facts, usage per unit, what a later or older answer changes, and the join to sessions by artifacts
alone: tables of cases, a task the fake GitHub worked on end to end, and a property that the SQL join is
the pure rule whatever the rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, insert

from bot.db import agent_tasks, pull_requests, sessions
from bot.sessions import model, store, tasks
from bot.sessions.task_model import Artifacts, Place, Usage, artifacts_of, facts_of, joined, usage_of
from tests.fakegithub.copilot_tasks import Tasks

T0 = 1_750_000_000.0
REPO, OTHER, FORK = 101, 102, 301


def answer(**fields) -> dict:
    """A task as GitHub's description's example has it (get-task-by-id), with `fields` changed."""
    found = {"id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "name": "Fix the login button on the homepage",
             "html_url": "https://github.com/octo-org/app/copilot/tasks/a1b2c3d4-e5f6-7890-abcd-ef1234567890",
             "creator": {"id": 1}, "creator_type": "user", "owner": {"id": 1}, "repository": {"id": REPO},
             "state": "completed", "session_count": 1, "archived_at": None,
             "artifacts": [{"provider": "github", "type": "pull", "data": {"id": 42}}],
             "created_at": "2025-06-15T10:00:00Z", "updated_at": "2025-06-15T11:00:00Z",
             "sessions": [{"id": "s1", "state": "completed", "created_at": "2025-06-15T10:00:00Z",
                           "model": "claude-sonnet-4.6", "usage": {"type": "premium_requests", "amount": 1.0}}]}
    found.update(fields)
    return found


def ai(amount) -> dict:
    return {"usage": {"type": "ai_credits", "amount": amount}}


def premium(amount) -> dict:
    return {"usage": {"type": "premium_requests", "amount": amount}}


# Usage and facts, pure


@pytest.mark.parametrize("found, usage", [
    ([], Usage(None, None)),
    ([{}, {"usage": None}], Usage(None, None)),
    ([ai(1_049_999_999), ai(1_049_999_999)], Usage(2_099_999_998, None)),  # summed, then divided once: 2.1
    ([premium(1.5), premium(0.25), ai(300_000_000)], Usage(300_000_000, 1.75)),  # the units kept apart
    ([ai("5"), ai(True), ai(-1), ai(float("nan")), ai(2.0 ** 60), {"usage": {"type": "tokens", "amount": 9}}],
     Usage(None, None)),
])
def test_usage_is_summed_per_unit_and_never_across(found, usage):
    assert usage_of(found) == usage


def test_ai_credits_are_divided_once_to_one_decimal():
    assert Usage(2_099_999_998, None).ai_credits() == 2.1
    assert Usage(None, 3.0).ai_credits() is None and Usage(0, None).ai_credits() == 0.0


@pytest.mark.parametrize("items, artifacts", [
    ([], Artifacts()),
    (None, Artifacts()),
    ([{"type": "pull", "data": {"id": 42, "global_id": "PR_x"}},
      {"type": "branch", "data": {"head_ref": "copilot/fix-1", "base_ref": "main"}}], Artifacts(42, "copilot/fix-1", "main")),
    ([{"type": "branch", "data": {"head_ref": "copilot/a", "base_ref": "main"}},
      {"type": "branch", "data": {"head_ref": "copilot/b", "base_ref": "main"}}], Artifacts(None, "copilot/a", "main")),
    ([{"type": "pull", "data": {"id": "42"}}, {"type": "pull", "data": {"id": 7}}, {"type": "pull"}, "junk"],
     Artifacts(7, None, None)),
])
def test_artifacts_are_the_first_pull_and_the_first_branch(items, artifacts):
    assert artifacts_of(items) == artifacts


def test_a_lists_answer_says_nothing_of_model_or_usage_and_a_name_is_outside_text():
    listed = answer(name="Use ghp_" + "a" * 36 + " to deploy")
    del listed["sessions"]
    facts = facts_of(listed)
    assert facts.usage is None and facts.model is None
    assert "ghp_" not in facts.name
    assert facts_of(answer()).usage == Usage(None, 1.0) and facts_of(answer()).model == "claude-sonnet-4.6"


# Keeping what GitHub said


def record(engine, found: dict, **kw):
    options = dict(installation_id=1, repository_id=REPO, repository="octo-org/app", now=T0) | kw
    with engine.begin() as conn:
        return tasks.record_task(conn, found, **options)


def test_a_started_task_then_its_progress_is_kept_with_who_started_it(engine):
    started = answer(state="queued", artifacts=[], updated_at="2025-06-15T10:00:00Z")
    del started["sessions"]
    row = record(engine, started, person=(1, "monalisa"), model="gpt-5.4")
    assert (row.state, row.model, row.pull_id, row.creator_login) == ("queued", "gpt-5.4", None, "monalisa")
    row = record(engine, answer(), now=T0 + 60)
    assert (row.state, row.pull_id, row.model, row.premium_requests, row.ai_credits_nano) == \
        ("completed", 42, "claude-sonnet-4.6", 1.0, None)
    assert (row.creator_login, row.last_checked) == ("monalisa", T0 + 60)


def test_an_older_answer_changes_nothing_and_a_list_keeps_model_usage_and_artifacts(engine):
    record(engine, answer())
    older = answer(state="in_progress", updated_at="2025-06-15T10:30:00Z", artifacts=[])
    assert record(engine, older, now=T0 + 5).state == "completed"
    listed = answer(state="completed", updated_at="2025-06-15T12:00:00Z", artifacts=[])
    del listed["sessions"]
    row = record(engine, listed, now=T0 + 10)
    assert (row.pull_id, row.model, row.premium_requests, row.last_checked) == (42, "claude-sonnet-4.6", 1.0, T0 + 10)


def test_another_persons_login_is_never_taken_for_the_creators(engine):
    assert record(engine, answer(), person=(2, "hubot")).creator_login is None
    assert record(engine, answer(), person=(1, "monalisa")).creator_login == "monalisa"


def test_an_answer_of_another_repository_is_refused(engine):
    with pytest.raises(ValueError):
        record(engine, answer(repository={"id": OTHER}))


def test_a_304_marks_the_task_checked_only(engine):
    record(engine, answer())
    with engine.begin() as conn:
        tasks.mark_checked(conn, [answer()["id"]], T0 + 99)
        assert tasks.task(conn, answer()["id"]).last_checked == T0 + 99


def test_an_uninstall_forgets_the_installations_tasks(engine):
    record(engine, answer())
    record(engine, answer(id="elsewhere", repository={"id": 201}), installation_id=2, repository_id=201,
           repository="mallory/secret")
    store.forget(engine, installation_id=1)
    with engine.connect() as conn:
        assert tasks.task(conn, answer()["id"]) is None and tasks.task(conn, "elsewhere") is not None


# Joining sessions by artifacts


def session(engine, run_id: int, *, repository_id: int = REPO, pr: int | None = None, branch: str | None = None,
            head_repository_id: int | None = REPO, created: float = T0, starter: str = "monalisa") -> None:
    store.observe(engine, installation_id=1, repository_id=repository_id, repository="octo-org/app", run_id=run_id,
                  record=model.Record(run_attempt=1, status="completed", conclusion="success", run_updated_at=created,
                                      created_at=created, head_branch=branch or f"copilot/fix-{pr}",
                                      head_repository_id=head_repository_id, pr_number=pr, run_starter=starter))


def pull(engine, number: int, pull_id: int, *, repository_id: int = REPO) -> None:
    store.observe_pull(engine, installation_id=1, repository_id=repository_id, repository="octo-org/app", pull={
        "id": pull_id, "number": number, "state": "open", "head": {"ref": f"copilot/fix-{number}",
                                                                   "repo": {"id": repository_id}},
        "created_at": "2025-06-15T10:00:00Z", "updated_at": "2025-06-15T10:00:00Z"})


def joined_runs(engine, task_id: str) -> list[int]:
    with engine.connect() as conn:
        return [row.run_id for row in tasks.sessions_of_task(conn, task_id)]


def test_a_task_joins_its_pull_requests_sessions_whenever_and_by_whomever_they_started(engine):
    pull(engine, 7, 42)
    pull(engine, 8, 43)
    session(engine, 1, pr=7, created=T0 - 86_400 * 30, starter="someone-else")  # long before the task
    session(engine, 2, pr=7)
    session(engine, 3, pr=8)
    session(engine, 4, repository_id=OTHER, pr=7, head_repository_id=OTHER)  # another repository's #7
    record(engine, answer())
    assert joined_runs(engine, answer()["id"]) == [1, 2]


def test_a_task_joins_the_sessions_on_its_branch_in_its_repository_only(engine):
    session(engine, 1, branch="copilot/try-it")
    session(engine, 2, branch="copilot/try-it", head_repository_id=FORK)  # a fork's branch of that name
    session(engine, 3, branch="copilot/other")
    branch = [{"provider": "github", "type": "branch", "data": {"head_ref": "copilot/try-it", "base_ref": "main"}}]
    record(engine, answer(artifacts=branch))
    assert joined_runs(engine, answer()["id"]) == [1]


def test_a_task_without_artifacts_or_whose_pull_request_is_unread_joins_nothing(engine):
    session(engine, 1, pr=7)  # pull request #7 is known by number only: its GitHub id is not
    queued = answer(state="queued", artifacts=[])
    record(engine, queued)
    assert joined_runs(engine, queued["id"]) == []
    record(engine, answer(updated_at="2025-06-15T12:00:00Z"))
    assert joined_runs(engine, queued["id"]) == []
    pull(engine, 7, 42)
    assert joined_runs(engine, queued["id"]) == [1]


def test_a_pull_request_worked_on_by_two_tasks_has_its_sessions_joined_to_both(engine):
    pull(engine, 7, 42)
    session(engine, 1, pr=7)
    session(engine, 2, branch="copilot/elsewhere")
    record(engine, answer(id="first"))
    record(engine, answer(id="second", created_at="2025-06-15T10:30:00Z"))
    with engine.connect() as conn:
        found = tasks.tasks_of_sessions(conn, [(REPO, 1), (REPO, 2), (REPO, 99)])
    assert {key: [t.id for t in rows] for key, rows in found.items()} == {(REPO, 1): ["first", "second"]}


def test_a_task_the_fake_github_worked_on_joins_the_session_it_made(engine, fake_github):
    fake_github.add_installation(1, "octo-org", ["octo-org/app"])
    fake_github.add_user("monalisa")
    board: Tasks = fake_github.agent_tasks
    started = board.add_task("octo-org/app", "monalisa", "Fix the login button", create_pull_request=True)
    run, made = board.work(started["id"], 5151, pr_number=7)
    repository_id = fake_github.repositories["octo-org/app"]["id"]
    store.observe_pull(engine, installation_id=1, repository_id=repository_id, repository="octo-org/app", pull=made)
    store.observe(engine, installation_id=1, repository_id=repository_id, repository="octo-org/app", run_id=5151,
                  record=model.observe_run(run, ("Copilot",)))
    board.finish(started["id"], usage={"type": "ai_credits", "amount": 1_500_000_000})
    got = board.answer(board.tasks[started["id"]], sessions=True)
    row = record(engine, got, repository_id=repository_id, person=(fake_github.users.user("monalisa")["id"], "monalisa"))
    assert (row.pull_id, row.head_ref, row.ai_credits_nano, row.creator_login) == \
        (made["id"], run["head_branch"], 1_500_000_000, "monalisa")
    assert joined_runs(engine, started["id"]) == [5151]


# The SQL join is the pure rule, whatever the rows


PULL_IDS = st.none() | st.sampled_from([42, 43])
BRANCHES = st.none() | st.sampled_from(["copilot/a", "copilot/b"])
REPOSITORIES = st.sampled_from([REPO, OTHER])
task_rows = st.lists(st.tuples(REPOSITORIES, PULL_IDS, BRANCHES), max_size=4)
pull_rows = st.dictionaries(st.tuples(REPOSITORIES, st.sampled_from([7, 8])), PULL_IDS, max_size=4)
session_rows = st.lists(st.tuples(REPOSITORIES, st.none() | st.sampled_from([7, 8]),
                                  st.none() | st.sampled_from([REPO, OTHER, FORK]), BRANCHES,
                                  st.floats(0, 1e9), st.sampled_from(["monalisa", "hubot", None])), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task_rows, pull_rows, session_rows)
def test_the_join_is_the_artifact_rule_and_nothing_else(engine, made_tasks, made_pulls, made_sessions):
    with engine.begin() as conn:
        for table in (agent_tasks, sessions, pull_requests):
            conn.execute(delete(table))
        for n, (repository_id, pull_id, head_ref) in enumerate(made_tasks):
            conn.execute(insert(agent_tasks).values(
                id=f"task-{n}", installation_id=1, repository_id=repository_id, repository="o/r", state="queued",
                pull_id=pull_id, head_ref=head_ref, created_at=T0 + n, updated_at=T0, last_checked=T0))
        for (repository_id, number), pull_id in made_pulls.items():
            conn.execute(insert(pull_requests).values(repository_id=repository_id, number=number, id=pull_id,
                                                      installation_id=1, repository="o/r", updated_at=T0))
        for run_id, (repository_id, pr, head_repository_id, branch, created, starter) in enumerate(made_sessions):
            conn.execute(insert(sessions).values(
                repository_id=repository_id, run_id=run_id, installation_id=1, repository="o/r", pr_number=pr,
                state="completed", status="completed", run_attempt=1, run_updated_at=created, created_at=created,
                head_branch=branch, head_repository_id=head_repository_id, starter=starter, indexed_at=T0,
                updated_at=T0))
        found = tasks.tasks_of_sessions(conn, [(s[0], run_id) for run_id, s in enumerate(made_sessions)])
    expected = {}
    for run_id, (repository_id, pr, head_repository_id, branch, _, _) in enumerate(made_sessions):
        place = Place(repository_id, made_pulls.get((repository_id, pr)), head_repository_id, branch)
        matching = [f"task-{n}" for n, (task_repository, pull_id, head_ref) in enumerate(made_tasks)
                    if joined(task_repository, Artifacts(pull_id, head_ref), place)]
        if matching:
            expected[(repository_id, run_id)] = matching
    assert {key: [t.id for t in rows] for key, rows in found.items()} == expected


@given(PULL_IDS, BRANCHES, st.builds(Place, REPOSITORIES, PULL_IDS, st.none() | REPOSITORIES, BRANCHES))
def test_each_artifact_joins_exactly_its_own_and_nothing_joins_across_repositories(pull_id, head_ref, place):
    here, other = place.repository_id, OTHER if place.repository_id == REPO else REPO
    assert not joined(other, Artifacts(pull_id, head_ref), place)
    assert not joined(here, Artifacts(), place)
    assert joined(here, Artifacts(pull_id=pull_id), place) == (pull_id is not None and place.pull_id == pull_id)
    assert joined(here, Artifacts(head_ref=head_ref), place) == (
        head_ref is not None and place.head_branch == head_ref and place.head_repository_id == here)
