"""The session model: which runs and PRs count, states, the order-free merge, who started a session."""

from __future__ import annotations

import copy
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sessions import model
from tests.fakegithub import payloads

LOGINS = ("Copilot", "copilot-swe-agent[bot]")
T0 = 1_750_000_000.0


def agent_run(**fields) -> dict:
    """GitHub's `workflow_run` example, as a run of the agent."""
    run = payloads.example("workflow_run", "requested")["workflow_run"]
    run.update({"path": "dynamic/copilot-swe-agent/copilot", "event": "dynamic", "name": "Copilot cloud agent",
                "head_branch": "copilot/fix-login", **fields})
    return run


@pytest.mark.parametrize("status, conclusion, state", [
    ("requested", None, "queued"),
    ("queued", None, "queued"),
    ("waiting", None, "queued"),
    ("in_progress", None, "in_progress"),
    ("completed", "success", "completed"),
    ("completed", "failure", "failed"),
    ("completed", "cancelled", "cancelled"),
    ("completed", "timed_out", "timed_out"),
    ("completed", "startup_failure", "failed"),
    ("completed", "action_required", "failed"),
    ("completed", "neutral", "failed"),
    ("completed", None, "failed"),
])
def test_conclusions_map_to_the_agent_task_states(status, conclusion, state):
    assert model.state_for(status, conclusion) == state


def test_an_unmapped_conclusion_is_a_failure_that_keeps_its_reason():
    record = model.observe_run(agent_run(status="completed", conclusion="startup_failure"), LOGINS)
    assert (record.state, record.conclusion) == ("failed", "startup_failure")


@pytest.mark.parametrize("path, name, is_session", [
    ("dynamic/copilot-swe-agent/copilot", "Copilot cloud agent", True),
    ("dynamic/copilot-swe-agent/copilot", "Some future name", True),  # GitHub renames the workflow
    (".github/workflows/copilot.yml", "Copilot cloud agent", False),  # the name alone proves nothing
    ("dynamic/dependabot/dependabot-updates", "Dependabot Updates", False),
    (None, "Copilot coding agent", False),
])
def test_a_session_is_recognised_by_its_workflow_path_never_its_name(path, name, is_session):
    run = agent_run(path=path, name=name)
    assert model.is_session_run(run, ["dynamic/copilot-swe-agent/"]) is is_session


@pytest.mark.parametrize("author, branch, tracked", [
    ("Copilot", "copilot/fix-login", True),
    ("copilot-swe-agent[bot]", "main-fix", True),
    ("monalisa", "copilot/fix-login", True),
    ("monalisa", "feature/copilot", False),
    ("dependabot[bot]", "dependabot/npm/lodash", False),
])
def test_copilot_pull_requests_by_author_or_branch(author, branch, tracked):
    pull = payloads.example("pull_request", "opened")["pull_request"]
    pull["user"]["login"] = author
    pull["head"]["ref"] = branch
    assert model.is_copilot_pull(pull, LOGINS) is tracked


def fork_pull(branch: str = "copilot/fix-42") -> dict:
    """GitHub's `pull_request` example, its head moved to mallory's fork of the base repository."""
    pull = payloads.example("pull_request", "opened")["pull_request"]
    fork = copy.deepcopy(pull["head"]["repo"])
    fork.update(id=pull["base"]["repo"]["id"] + 1, name="app", full_name="mallory/app", fork=True,
                owner={**fork["owner"], "login": "mallory", "id": 7171}, node_id="R_kgDOmallory")
    pull["head"].update(ref=branch, label=f"mallory:{branch}", repo=fork, user=fork["owner"])
    return pull


@pytest.mark.parametrize("author", ["mallory", "Copilot"])
def test_a_pull_request_from_a_fork_is_never_the_agents_whatever_its_branch_or_author(author):
    pull = fork_pull()
    pull["user"]["login"] = author
    assert model.is_copilot_pull(pull, LOGINS) is False


def test_a_pull_request_whose_fork_was_deleted_is_not_the_agents():
    pull = fork_pull()
    pull["head"]["repo"] = None  # GitHub's answer once the head repository is gone
    assert model.is_copilot_pull(pull, LOGINS) is False
    assert model.head_repository_id(pull) is None


def test_a_run_records_the_repository_its_branch_lives_in():
    run = agent_run()
    assert model.observe_run(run, LOGINS).head_repository_id == run["head_repository"]["id"]


def test_a_late_in_progress_never_overwrites_a_finished_state():
    done = model.observe_run(agent_run(status="completed", conclusion="success", updated_at="2025-06-15T10:05:00Z"),
                             LOGINS)
    late = model.observe_run(agent_run(status="in_progress", updated_at="2025-06-15T10:09:00Z"), LOGINS)
    assert model.merge(done, late).state == "completed"
    assert model.merge(late, done).state == "completed"


def test_a_rerun_is_the_same_session_going_again_with_its_attempt_visible():
    first = model.observe_run(agent_run(status="completed", conclusion="failure", run_attempt=1,
                                        updated_at="2025-06-15T10:05:00Z"), LOGINS)
    again = model.observe_run(agent_run(status="queued", run_attempt=2, updated_at="2025-06-15T10:01:00Z"), LOGINS)
    merged = model.merge(first, again)
    assert (merged.state, merged.run_attempt, merged.finished_at) == ("queued", 2, None)


def test_a_job_shows_its_run_running_but_never_finishes_it():
    job = payloads.example("workflow_job", "completed")["workflow_job"]
    record = model.observe_job(job)
    assert record.state == "in_progress"


# -- any order, any duplicates: the same record ------------------------------------------------------

def _observation(attempt: int, status: str, minute: int, conclusion: str | None, triggering: str,
                 pr: int | None) -> model.Record:
    run = agent_run(run_attempt=attempt, status=status, conclusion=conclusion if status == "completed" else None,
                    created_at="2025-06-15T10:00:00Z", run_started_at=f"2025-06-15T10:{attempt:02d}:30Z",
                    updated_at=f"2025-06-15T10:{minute:02d}:00Z")
    run["triggering_actor"] = {**run["triggering_actor"], "login": triggering,
                               "type": "Bot" if triggering == "Copilot" else "User"}
    run["pull_requests"] = [{"number": pr}] if pr else []
    return model.observe_run(run, LOGINS)


observations = st.lists(st.builds(
    _observation, st.integers(1, 3), st.sampled_from(["requested", "queued", "in_progress", "completed"]),
    st.integers(0, 59), st.sampled_from([None, "success", "failure", "cancelled", "timed_out", "stale"]),
    st.sampled_from(["Copilot", "monalisa", "hubot"]), st.sampled_from([None, 7])), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(observations, st.data())
def test_any_permutation_or_duplication_of_a_sessions_observations_gives_the_same_record(seen, data):
    duplicates = data.draw(st.lists(st.sampled_from(seen), max_size=6))
    delivered = data.draw(st.permutations(seen + duplicates))
    assert functools.reduce(model.merge, delivered, None) == functools.reduce(model.merge, seen, None)


@settings(max_examples=100, deadline=None)
@given(st.permutations([
    _observation(1, "requested", 0, None, "Copilot", None),
    _observation(1, "in_progress", 1, None, "Copilot", 7),
    _observation(1, "completed", 9, "success", "Copilot", 7),
    model.observe_job({"status": "in_progress", "run_attempt": 1, "started_at": "2025-06-15T10:01:10Z"}),
]))
def test_a_sessions_life_in_any_order_ends_completed(delivered):
    final = functools.reduce(model.merge, delivered, None)
    assert (final.state, final.pr_number, final.finished_at) == ("completed", 7, model.timestamp("2025-06-15T10:09:00Z"))


# -- who started it -----------------------------------------------------------------------------------

def _timeline_event(event_id: int, event: str, login: str, created_at: str, **extra) -> dict:
    """A timeline item as `GET /repos/{owner}/{repo}/issues/{number}/timeline` returns it."""
    bot = login in LOGINS
    actor = {"login": login, "id": 198982749 if bot else 583231, "node_id": "BOT_kgDOC9w8XQ" if bot else "MDQ6VXNlcjU4MzIzMQ==",
             "avatar_url": "https://avatars.githubusercontent.com/in/1143301?v=4" if bot else "https://avatars.githubusercontent.com/u/583231?v=4",
             "gravatar_id": "", "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
             "type": "Bot" if bot else "User", "site_admin": False}
    return {"id": event_id, "node_id": f"CWSE_lADOLbSVnc6{event_id}", "url":
            f"https://api.github.com/repos/octo-org/app/issues/events/{event_id}", "actor": actor, "event": event,
            "commit_id": None, "commit_url": None, "created_at": created_at, "performed_via_github_app": None, **extra}


# A Copilot PR's timeline as GitHub lists it, oldest first: monalisa assigns Copilot, which works and
# finishes; hubot asks for more and that session fails; a third run (a re-dispatch) has no event of its own.
TIMELINE = [
    _timeline_event(101, "assigned", "monalisa", "2025-06-15T09:59:58Z",
                    assignee={"login": "Copilot", "type": "Bot"}, assigner={"login": "monalisa", "type": "User"}),
    _timeline_event(102, "copilot_work_started", "monalisa", "2025-06-15T10:00:03Z"),
    {"sha": "3f786850e387550fdab836ed7e6dc881de23001b", "node_id": "C_kwDOLbSVnc", "event": "committed",
     "message": "Initial plan", "author": {"name": "copilot-swe-agent[bot]", "date": "2025-06-15T10:00:40Z"},
     "url": "https://api.github.com/repos/octo-org/app/git/commits/3f78685"},
    _timeline_event(103, "copilot_work_finished", "Copilot", "2025-06-15T10:12:40Z"),
    _timeline_event(104, "review_requested", "Copilot", "2025-06-15T10:12:41Z"),
    _timeline_event(105, "copilot_work_started", "hubot", "2025-06-15T11:30:01Z"),
    _timeline_event(106, "copilot_work_finished_failure", "Copilot", "2025-06-15T11:41:12Z"),
]


def test_timeline_starts_are_matched_to_runs_in_time_order():
    runs = [(9002, model.timestamp("2025-06-15T11:30:05Z")),   # listed out of order on purpose
            (9001, model.timestamp("2025-06-15T10:00:06Z")),
            (9003, model.timestamp("2025-06-15T13:00:00Z"))]

    facts = model.match_timeline(runs, copy.deepcopy(TIMELINE), LOGINS)

    assert facts == {9001: model.TimelineFacts("monalisa", "finished"),
                     9002: model.TimelineFacts("hubot", "failed")}


def test_a_run_without_its_own_event_does_not_take_the_next_runs():
    runs = [(9001, model.timestamp("2025-06-15T11:29:00Z")), (9002, model.timestamp("2025-06-15T11:30:05Z"))]
    facts = model.match_timeline(runs, copy.deepcopy(TIMELINE), LOGINS)
    assert 9001 not in facts
    assert facts[9002].starter == "hubot"


def test_a_start_the_agent_names_itself_for_names_nobody():
    timeline = [_timeline_event(1, "copilot_work_started", "Copilot", "2025-06-15T10:00:03Z")]
    facts = model.match_timeline([(9001, model.timestamp("2025-06-15T10:00:06Z"))], timeline, LOGINS)
    assert facts[9001].starter is None


# Copilot code reviews post `copilot_work_started` / `copilot_work_finished*` too ("Copilot started
# reviewing on behalf of …"), the actor being whoever asked for the review.
def test_a_code_review_start_with_no_run_near_it_is_no_sessions_start_nor_its_end():
    runs = [(9001, model.timestamp("2025-06-15T10:00:06Z")), (9002, model.timestamp("2025-06-15T10:20:00Z"))]
    timeline = [
        _timeline_event(1, "copilot_work_started", "monalisa", "2025-06-15T10:00:03Z"),
        _timeline_event(2, "copilot_work_started", "hubot", "2025-06-15T10:05:00Z"),  # hubot asks for a review
        _timeline_event(3, "copilot_work_finished", "Copilot", "2025-06-15T10:06:30Z"),  # the review is done
        _timeline_event(4, "copilot_work_finished_failure", "Copilot", "2025-06-15T10:12:40Z"),  # the session
    ]

    facts = model.match_timeline(runs, timeline, LOGINS)

    assert facts == {9001: model.TimelineFacts("monalisa", "failed")}, \
        "run 9002 has no start of its own; the review's start is not one, and its end is not the session's"


def test_a_code_review_started_just_before_a_session_does_not_name_its_starter():
    # Copilot finished session 1 and a review of it was asked for at once; monalisa starts session 2.
    runs = [(9001, model.timestamp("2025-06-15T10:00:06Z")), (9002, model.timestamp("2025-06-15T10:14:00Z"))]
    timeline = copy.deepcopy(TIMELINE[:4]) + [
        _timeline_event(5, "copilot_work_started", "hubot", "2025-06-15T10:12:45Z"),  # the review
        _timeline_event(6, "copilot_work_finished", "Copilot", "2025-06-15T10:13:30Z"),
        _timeline_event(7, "copilot_work_started", "monalisa", "2025-06-15T10:13:58Z"),
    ]

    facts = model.match_timeline(runs, timeline, LOGINS)

    assert facts[9002].starter == "monalisa"
    assert facts[9001] == model.TimelineFacts("monalisa", "finished")


@pytest.mark.parametrize("run_starter, timeline_starter, expected", [
    ("monalisa", "hubot", ("monalisa", "run")),
    (None, "hubot", ("hubot", "timeline")),
    (None, None, (None, None)),
])
def test_the_runs_person_comes_first_then_the_timelines(run_starter, timeline_starter, expected):
    assert model.starter(run_starter, timeline_starter) == expected


def test_a_triggering_actor_is_a_starter_only_when_a_person():
    by_copilot = agent_run(triggering_actor={"login": "Copilot", "type": "Bot"})
    by_person = agent_run(triggering_actor={"login": "monalisa", "type": "User"})
    assert model.observe_run(by_copilot, LOGINS).run_starter is None
    assert model.observe_run(by_person, LOGINS).run_starter == "monalisa"
