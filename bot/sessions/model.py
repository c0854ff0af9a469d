"""What a session is, as pure functions: classification, states, the monotonic merge, starters."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Iterable, Sequence

STATES = ("queued", "in_progress", "completed", "failed", "cancelled", "timed_out")
RUNNING = ("queued", "in_progress")  # the states of a session not finished yet
COPILOT_BRANCH_PREFIX = "copilot/"
# How far apart a `copilot_work_started` timeline event and its run's creation may be.
TIMELINE_SKEW = 120.0

# GitHub run statuses in the order a run moves through them; `completed` is final for an attempt.
_STATUS_RANK = {"requested": 0, "pending": 1, "waiting": 1, "queued": 1, "in_progress": 2, "completed": 3}
_CONCLUSION_STATE = {"success": "completed", "failure": "failed", "cancelled": "cancelled",
                     "timed_out": "timed_out"}


def timestamp(value: str | None) -> float | None:
    """Unix seconds from GitHub's ISO 8601 time ("2025-01-02T03:04:05Z"), or None."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def is_session_run(run: dict, prefixes: Iterable[str]) -> bool:
    """Whether a workflow run is a Copilot agent session: by its path, never its renamable name."""
    path = run.get("path") or ""
    return any(path.startswith(prefix) for prefix in prefixes)


def head_repository_id(pull: dict) -> int | None:
    """The id of the repository a pull request's head branch lives in; None when that fork is deleted."""
    return ((pull.get("head") or {}).get("repo") or {}).get("id")


def is_same_repository_pull(pull: dict) -> bool:
    """Whether the pull request's head branch is in its base repository: the agent never works in a fork,
    so a fork's branch named `copilot/…` is somebody else's branch, whatever its name."""
    head = head_repository_id(pull)
    return head is not None and head == ((pull.get("base") or {}).get("repo") or {}).get("id")


def has_branch_to_search(row) -> bool:
    """Whether a session's pull request can be looked up by its branch: any branch of the repository
    itself (the agent's `copilot/…`, or a person's own PR's branch a session was started on)."""
    return bool(row.head_branch) and row.head_repository_id == row.repository_id


def is_copilot_pull(pull: dict, logins: Iterable[str]) -> bool:
    """Whether the agent opened the pull request, or it is on one of the agent's branches; either way
    its head must be in the base repository. The author alone is not required: a session started on
    a person's own pull request runs on that pull request's branch (linked once a run names it)."""
    if not is_same_repository_pull(pull):
        return False
    author = (pull.get("user") or {}).get("login")
    branch = (pull.get("head") or {}).get("ref") or ""
    return author in set(logins) or branch.startswith(COPILOT_BRANCH_PREFIX)


def person(account: dict | None, copilot_logins: Iterable[str]) -> str | None:
    """The login of a human account; None for the agent, other bots, or nobody."""
    if not account or account.get("type") == "Bot":
        return None
    login = account.get("login")
    return None if not login or login in set(copilot_logins) else login


def state_for(status: str, conclusion: str | None) -> str:
    """The session state for a run's status and conclusion (an unknown conclusion is a failure)."""
    if status != "completed":
        return "in_progress" if status == "in_progress" else "queued"
    return _CONCLUSION_STATE.get(conclusion or "", "failed")


@dataclass(frozen=True)
class Record:
    """What is known of one session's run: a join of observations, so order never matters.

    The run's status fields come from the greatest observation by (attempt, status rank,
    updated_at); per-attempt facts (start, who triggered it) from that attempt's observations;
    facts fixed for the run (creation, branch and its repository, URL, PR) from all of them.
    """

    run_attempt: int
    status: str
    conclusion: str | None
    run_updated_at: float
    started_at: float | None = None
    triggering_actor: str | None = None
    run_starter: str | None = None
    created_at: float | None = None
    head_branch: str | None = None
    head_repository_id: int | None = None  # with head_branch: the branch the run works on
    html_url: str | None = None
    actor: str | None = None
    pr_number: int | None = None

    @property
    def state(self) -> str:
        return state_for(self.status, self.conclusion)

    @property
    def finished_at(self) -> float | None:
        return self.run_updated_at if self.status == "completed" else None

    def order(self) -> tuple:
        """The monotonic key, then a total tie-break so equal keys still merge the same way."""
        return (self.run_attempt, _STATUS_RANK.get(self.status, 0), self.run_updated_at,
                self.status, self.conclusion or "")


def observe_run(run: dict, copilot_logins: Iterable[str]) -> Record:
    """A Record from a workflow run object (webhook or REST)."""
    pulls = [p.get("number") for p in run.get("pull_requests") or [] if p.get("number")]
    triggering = run.get("triggering_actor")
    return Record(
        run_attempt=run.get("run_attempt") or 1, status=run["status"], conclusion=run.get("conclusion"),
        run_updated_at=timestamp(run.get("updated_at")) or timestamp(run.get("created_at")) or 0.0,
        started_at=timestamp(run.get("run_started_at")),
        triggering_actor=(triggering or {}).get("login"), run_starter=person(triggering, copilot_logins),
        created_at=timestamp(run.get("created_at")), head_branch=run.get("head_branch"),
        head_repository_id=(run.get("head_repository") or {}).get("id"),
        html_url=run.get("html_url"), actor=(run.get("actor") or {}).get("login"),
        pr_number=min(pulls) if pulls else None)


def observe_job(job: dict) -> Record:
    """A Record from a workflow job: it shows its run queued or running, never how the run ended."""
    status = "in_progress" if job["status"] in ("in_progress", "completed") else "queued"
    when = job.get("completed_at") or job.get("started_at") or job.get("created_at")
    return Record(run_attempt=job.get("run_attempt") or 1, status=status, conclusion=None,
                  run_updated_at=timestamp(when) or 0.0,
                  started_at=timestamp(job.get("started_at")) if status == "in_progress" else None,
                  head_branch=job.get("head_branch"))


def merge(current: Record | None, new: Record) -> Record:
    """Join two records of one run: commutative, associative and idempotent."""
    if current is None:
        return new
    winner = max(current, new, key=Record.order)
    same_attempt = current.run_attempt == new.run_attempt

    def per_attempt(name: str, pick):
        if not same_attempt:
            return getattr(winner, name)
        return _pick(pick, getattr(current, name), getattr(new, name))

    return replace(
        winner,
        started_at=per_attempt("started_at", min),
        triggering_actor=per_attempt("triggering_actor", max),
        run_starter=per_attempt("run_starter", max),
        created_at=_pick(min, current.created_at, new.created_at),
        head_branch=_pick(max, current.head_branch, new.head_branch),
        head_repository_id=_pick(max, current.head_repository_id, new.head_repository_id),
        html_url=_pick(max, current.html_url, new.html_url),
        actor=_pick(max, current.actor, new.actor),
        pr_number=_pick(min, current.pr_number, new.pr_number),
    )


def _pick(choose, a: Any, b: Any) -> Any:
    present = [v for v in (a, b) if v is not None]
    return choose(present) if present else None


def record_fields(record: Record) -> dict[str, Any]:
    """The record as column values of the `sessions` table."""
    values = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "run_starter"}
    values.update(state=record.state, finished_at=record.finished_at)
    return values


@dataclass(frozen=True)
class TimelineFacts:
    """What a PR timeline says of one run: who started it and how the agent said it ended."""

    starter: str | None
    outcome: str | None  # "finished", "failed", or None while running / unknown


def match_timeline(runs: Sequence[tuple[int, float]], events: Sequence[dict],
                   copilot_logins: Iterable[str]) -> dict[int, TimelineFacts]:
    """Match `copilot_work_*` timeline events to runs (run_id, created_at) by time order.

    A `copilot_work_started` with no run created within TIMELINE_SKEW of it is not a session's start:
    Copilot code reviews post events of the same names ("started reviewing on behalf of …") and
    the REST timeline has no field telling them apart (GraphQL's `sessionId` would). Such a start
    is dropped, and with it the first finish after it (before any other start): the review's own.

    Runs and the remaining starts are walked oldest first. A run takes the unused start within
    TIMELINE_SKEW of its creation nearest to it, unless that start is nearer the following run (then
    this run's own event is missing). Its outcome is the first `copilot_work_finished` /
    `copilot_work_finished_failure` after its start and before the next start.
    """
    logins = tuple(copilot_logins)
    created = [c for _, c in runs if c is not None]
    work, reviewing = [], False
    for t, kind, e in sorted((t, e["event"], e) for e in events if str(e.get("event", "")).startswith("copilot_work_")
                             and (t := timestamp(e.get("created_at")))):
        if kind == "copilot_work_started":
            reviewing = not any(abs(t - c) <= TIMELINE_SKEW for c in created)
            if reviewing:
                continue
        elif reviewing:
            reviewing = False
            continue
        work.append((t, kind, e))
    starts = [(t, e) for t, kind, e in work if kind == "copilot_work_started"]
    ordered = sorted(runs, key=lambda r: (r[1], r[0]))
    facts: dict[int, TimelineFacts] = {}
    j = 0
    for i, (run_id, created_at) in enumerate(ordered):
        while j < len(starts) and starts[j][0] < created_at - TIMELINE_SKEW:
            j += 1
        window = [k for k in range(j, len(starts)) if starts[k][0] <= created_at + TIMELINE_SKEW]
        if not window:
            continue
        k = min(window, key=lambda k: (abs(starts[k][0] - created_at), k))
        following = ordered[i + 1][1] if i + 1 < len(ordered) else None
        if following is not None and abs(starts[k][0] - following) < abs(starts[k][0] - created_at):
            continue
        started_at, event = starts[k]
        ends_before = starts[k + 1][0] if k + 1 < len(starts) else float("inf")
        outcome = next(("failed" if kind.endswith("failure") else "finished"
                        for t, kind, _ in work
                        if kind != "copilot_work_started" and started_at <= t < ends_before), None)
        facts[run_id] = TimelineFacts(person(event.get("actor"), logins), outcome)
        j = k + 1
    return facts


@dataclass(frozen=True)
class Commit:
    """A commit a pull request's timeline lists (`committed`): the agent's progress while a session runs."""

    sha: str
    message: str  # as the commit says it: outside text, redacted and clipped before it is kept
    author: str | None  # the commit's author name (a commit carries no verified login)
    committed_at: float | None


def commits_of_timeline(events: Sequence[dict]) -> list[Commit]:
    """The `committed` events of a PR timeline, in timeline order; malformed ones are skipped."""
    found = []
    for event in events:
        if event.get("event") != "committed" or not isinstance(event.get("sha"), str):
            continue
        committer = event.get("committer") if isinstance(event.get("committer"), dict) else {}
        author = event.get("author") if isinstance(event.get("author"), dict) else {}
        name = author.get("name")
        found.append(Commit(sha=event["sha"][:64], message=str(event.get("message") or ""),
                            author=name if isinstance(name, str) else None,
                            committed_at=timestamp(committer.get("date") or author.get("date"))))
    return found


def starter(run_starter: str | None, timeline_starter: str | None) -> tuple[str | None, str | None]:
    """(who started the session, where that came from): the run's person first, then the timeline's."""
    if run_starter:
        return run_starter, "run"
    if timeline_starter:
        return timeline_starter, "timeline"
    return None, None
