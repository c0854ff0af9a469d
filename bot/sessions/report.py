"""The insights report: what sessions cost in time, what became of them and of their pull requests, why
they failed, and how many there were each day. Plain data for the page (`/insights`) and the CLI
(`flask --app app sessions report`), which show the same figures.

The sessions counted are those created in the window [since, until), of the repositories the viewer
may see (None: every one), narrowed to one repository if asked. Each figure is a grouped count the
database computes off the index on (repository, created_at) or (created_at); nothing here reads a log
or calls GitHub: causes come from summaries classified beforehand (bot/sessions/insights.py), and
whether a repository has copilot-setup-steps.yml from the cache a job keeps (bot/caches/setup_steps.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Integer, and_, case, cast, exists, func, select
from sqlalchemy.engine import Connection

from bot.db import pull_requests, repositories, run_times, session_stops, sessions, setup_steps_cache, summary_causes
from bot.sessions import failures, model
from bot.sessions.failures import Hint
from bot.sessions.task_model import Usage
from bot.sessions.task_usage import plus, usage_in

DAY = 86_400.0
OUTCOMES = ("completed", "failed", "cancelled", "timed_out", "running")  # a session's, from its state
LABELS = {"completed": "completed", "failed": "failed", "cancelled": "cancelled", "timed_out": "timed out",
          "running": "running"}
# A pull request's state in the index → the figure it counts in.
PULL_FIGURES = {"merged": "merged", "closed": "closed_unmerged", "open": "still_open"}
MAX_DAYS = 366


def outcome(state: str) -> str:
    """A session's outcome: its state, with queued and in progress both `running`."""
    return "running" if state in model.RUNNING else state


@dataclass
class Pulls:
    """The agent's pull requests opened in the window: merged, closed without merging, still open."""

    merged: int = 0
    closed_unmerged: int = 0
    still_open: int = 0

    @property
    def merge_rate(self) -> float | None:
        """Merged among those decided (merged or closed unmerged); None before any is."""
        decided = self.merged + self.closed_unmerged
        return self.merged / decided if decided else None


@dataclass
class Figures:
    """Sessions (of a repository, a person, or all) by outcome, how many are marked stuck, and the time
    the finished ones ran (`timed`: how many of them that time is known for)."""

    sessions: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    stuck: int = 0
    run_seconds: float = 0.0
    timed: int = 0
    usage: Usage = Usage()  # what Copilot tasks started in the window used (bot/sessions/task_usage.py)

    def add(self, state: str, n: int, seconds: float | None, timed: int, stuck: bool = False) -> None:
        """Count `n` sessions in `state` (marked stuck or not) that ran `seconds` in all, `timed` of them known."""
        self.sessions += n
        self.outcomes[outcome(state)] += n
        self.stuck += n if stuck else 0
        self.run_seconds += seconds or 0.0
        self.timed += timed

    def merge(self, other: "Figures") -> None:
        """Add `other`'s figures to these."""
        self.sessions += other.sessions
        self.stuck += other.stuck
        self.run_seconds += other.run_seconds
        self.timed += other.timed
        self.usage = plus(self.usage, other.usage)
        for name, n in other.outcomes.items():
            self.outcomes[name] += n


@dataclass
class RepositoryReport:
    """One repository's figures, its pull requests, and why its sessions failed (`causes`: per cause)."""

    repository: str
    figures: Figures = field(default_factory=Figures)
    pulls: Pulls = field(default_factory=Pulls)
    causes: dict[str, int] = field(default_factory=dict)
    hint: Hint | None = None

    @property
    def top_causes(self) -> list[tuple[str, int]]:
        return failures.top(self.causes)


@dataclass
class PersonReport:
    """The sessions one person started (`login` None: nobody known)."""

    login: str | None
    figures: Figures = field(default_factory=Figures)


@dataclass(frozen=True)
class Report:
    """Everything the page and the CLI show, for the window [since, until)."""

    since: float
    until: float
    repositories: list[RepositoryReport]  # most sessions first
    people: list[PersonReport]  # most sessions first
    days: list[tuple[str, dict[str, int]]]  # each UTC day of the window, oldest first: outcome → sessions
    totals: RepositoryReport  # every repository together (its `repository` is "")

    def to_dict(self) -> dict:
        """Plain data (the CLI's `--json`): run times in seconds, the merge rate a fraction or None."""
        return {"since": iso(self.since), "until": iso(self.until), "totals": _repository(self.totals),
                "repositories": [_repository(r) for r in self.repositories],
                "people": [{"login": p.login, **_figures(p.figures)} for p in self.people],
                "per_day": [{"day": day, **counts} for day, counts in self.days]}


def _figures(figures: Figures) -> dict:
    return {"sessions": figures.sessions, "outcomes": dict(figures.outcomes), "stuck": figures.stuck,
            "run_seconds": round(figures.run_seconds, 3), "timed_sessions": figures.timed,
            # Per unit, never added together: AI credits divided once from the nano sum; None: none said.
            "ai_credits": figures.usage.ai_credits(), "premium_requests": figures.usage.premium_requests}


def _repository(found: RepositoryReport) -> dict:
    pulls = found.pulls
    return {"repository": found.repository, **_figures(found.figures),
            "pull_requests": {"merged": pulls.merged, "closed_unmerged": pulls.closed_unmerged,
                              "open": pulls.still_open,
                              "merge_rate": None if pulls.merge_rate is None else round(pulls.merge_rate, 4)},
            "causes": {name: found.causes.get(name, 0) for name in failures.CAUSES},
            "top_causes": [[name, n] for name, n in found.top_causes],
            "hint": asdict(found.hint) if found.hint else None}


def iso(timestamp: float) -> str:
    """`2026-11-24T16:20:05Z`."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def build(conn: Connection, *, since: float, until: float, repository_ids: frozenset[int] | None = None,
          repository: str | None = None, agent_logins: tuple[str, ...] = ()) -> Report:
    """The report of the sessions created in [since, until) of `repository_ids` (None: all), or of the
    one named `repository` among them; the pull requests counted are those `agent_logins` opened."""
    where = _where(conn, repository_ids, repository) + [sessions.c.created_at >= since, sessions.c.created_at < until]
    joined = sessions.outerjoin(run_times, and_(run_times.c.repository_id == sessions.c.repository_id,
                                                run_times.c.run_id == sessions.c.run_id))
    ran = _run_seconds()
    stuck = sessions.c.stuck.is_not(None)
    by_repository: dict[int, RepositoryReport] = {}
    people: dict[str | None, PersonReport] = {}
    # One pass over the window's sessions for both the repositories and the people (a covering index on
    # PostgreSQL: bot/db/tables.py), grouped finely and added up here.
    for repository_id, login, state, is_stuck, n, seconds, timed in conn.execute(
            select(sessions.c.repository_id, sessions.c.starter, sessions.c.state, stuck, func.count(), func.sum(ran),
                   func.count(ran)).select_from(joined).where(*where)
            .group_by(sessions.c.repository_id, sessions.c.starter, sessions.c.state, stuck)):
        by_repository.setdefault(repository_id, RepositoryReport("")).figures.add(state, n, seconds, timed,
                                                                                   bool(is_stuck))
        people.setdefault(login, PersonReport(login)).figures.add(state, n, seconds, timed, bool(is_stuck))
    _usage(conn, by_repository, people, since, until)
    _causes(conn, where, by_repository)
    _pulls(conn, by_repository, since, until, agent_logins)
    _names_and_hints(conn, by_repository)
    found = sorted(by_repository.values(), key=lambda r: (-r.figures.sessions, r.repository.lower()))
    return Report(since=since, until=until, repositories=found,
                  people=sorted(people.values(), key=lambda p: (-p.figures.sessions, p.login is None, p.login or "")),
                  days=_days(conn, where, since, until), totals=_total(found))


def _where(conn: Connection, repository_ids: frozenset[int] | None, repository: str | None) -> list:
    where = []
    if repository_ids is not None:
        where.append(sessions.c.repository_id.in_(sorted(repository_ids)))
    if repository:
        # By id through the installed repositories (sessions survive a rename), else by the name sessions last had.
        ids = conn.execute(select(repositories.c.id).where(
            func.lower(repositories.c.full_name) == repository.lower())).scalars().all()
        where.append(sessions.c.repository_id.in_(ids) if ids else sessions.c.repository == repository)
    return where


def _run_seconds():
    """A finished session's run time (bot.sessions.insights.session_seconds, in SQL): its jobs' total when
    they were read, else its run's end minus its start; NULL while it runs or when neither is known."""
    own = case((sessions.c.finished_at >= sessions.c.started_at, sessions.c.finished_at - sessions.c.started_at),
               else_=0.0)
    own = case((and_(sessions.c.started_at.is_not(None), sessions.c.finished_at.is_not(None)), own), else_=None)
    return case((sessions.c.state.in_(model.RUNNING), None), else_=func.coalesce(run_times.c.seconds, own))


def _usage(conn: Connection, by_repository: dict[int, RepositoryReport], people: dict[str | None, PersonReport],
           since: float, until: float) -> None:
    """Beside each repository's and person's run time: what their Copilot tasks used, per unit."""
    per_repository, per_person = usage_in(conn, by_repository, since=since, until=until)
    for repository_id, used in per_repository.items():
        by_repository[repository_id].figures.usage = used
    for login, person in people.items():
        if login and login.lower() in per_person:
            person.figures.usage = per_person[login.lower()]


def _causes(conn: Connection, where: list, by_repository: dict[int, RepositoryReport]) -> None:
    """Each repository's failures per cause: the state, the stored summary's cause, whether the bot stopped it."""
    auto = exists().where(session_stops.c.repository_id == sessions.c.repository_id,
                          session_stops.c.run_id == sessions.c.run_id, session_stops.c.reason == failures.AUTO_STOP)
    each = (select(sessions.c.repository_id, sessions.c.state, summary_causes.c.cause.label("cause"),
                   case((sessions.c.state == "cancelled", auto), else_=False).label("auto"))
            .select_from(sessions.outerjoin(summary_causes, and_(
                summary_causes.c.repository_id == sessions.c.repository_id,
                summary_causes.c.run_id == sessions.c.run_id, summary_causes.c.run_attempt == sessions.c.run_attempt)))
            .where(*where, sessions.c.state.in_(failures.FAILED_STATES)).subquery())
    for repository_id, state, in_log, auto_stopped, n in conn.execute(
            select(each.c.repository_id, each.c.state, each.c.cause, each.c.auto, func.count())
            .group_by(each.c.repository_id, each.c.state, each.c.cause, each.c.auto)):
        name = failures.cause(state, in_log, auto_stopped=bool(auto_stopped))
        causes = by_repository[repository_id].causes
        causes[name] = causes.get(name, 0) + n


def _pulls(conn: Connection, by_repository: dict[int, RepositoryReport], since: float, until: float,
           agent_logins: tuple[str, ...]) -> None:
    """The agent's pull requests opened in the window, of the repositories with sessions in it."""
    if not by_repository or not agent_logins:
        return
    for repository_id, state, n in conn.execute(
            select(pull_requests.c.repository_id, pull_requests.c.state, func.count())
            .where(pull_requests.c.repository_id.in_(sorted(by_repository)), pull_requests.c.author.in_(agent_logins),
                   pull_requests.c.created_at >= since, pull_requests.c.created_at < until)
            .group_by(pull_requests.c.repository_id, pull_requests.c.state)):
        if state in PULL_FIGURES:
            pulls, figure = by_repository[repository_id].pulls, PULL_FIGURES[state]
            setattr(pulls, figure, getattr(pulls, figure) + n)


def _names_and_hints(conn: Connection, by_repository: dict[int, RepositoryReport]) -> None:
    """The installed repositories' names as they are now (else as their newest session has it), and each
    one's hint, knowing whether it has the setup steps file (as the cache says: unknown until a job asked)."""
    if not by_repository:
        return
    where = {row.id: (row.full_name, row.installation_id) for row in conn.execute(
        select(repositories.c.id, repositories.c.full_name, repositories.c.installation_id)
        .where(repositories.c.id.in_(sorted(by_repository))))}
    for repository_id in sorted(set(by_repository) - set(where)):  # sessions of a repository not listed (yet)
        where[repository_id] = tuple(conn.execute(
            select(sessions.c.repository, sessions.c.installation_id).where(sessions.c.repository_id == repository_id)
            .order_by(sessions.c.created_at.desc()).limit(1)).one())
    known = {(row.installation_id, row.repository): row.present for row in conn.execute(
        select(setup_steps_cache).where(setup_steps_cache.c.repository.in_(
            sorted({name.lower() for name, _ in where.values()}))))}
    for repository_id, found in by_repository.items():
        found.repository, installation_id = where[repository_id]
        found.hint = failures.hint(found.causes, known.get((installation_id, found.repository.lower())))


def _days(conn: Connection, where: list, since: float, until: float) -> list[tuple[str, dict[str, int]]]:
    """Sessions per UTC day of the window by outcome, every day listed (those without sessions too)."""
    day = func.floor(sessions.c.created_at / DAY) if conn.dialect.name != "sqlite" else \
        cast(sessions.c.created_at / DAY, Integer)  # SQLite's CAST truncates: the floor of a positive time
    counted: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for number, state, n in conn.execute(select(day, sessions.c.state, func.count()).where(*where)
                                         .group_by(day, sessions.c.state)):
        counted[int(number)][outcome(state)] += n
    first, last = int(since // DAY), int((until - 1e-6) // DAY)
    return [(datetime.fromtimestamp(number * DAY, timezone.utc).strftime("%Y-%m-%d"),
             dict(counted.get(number, dict.fromkeys(OUTCOMES, 0)))) for number in range(first, last + 1)]


def _total(found: list[RepositoryReport]) -> RepositoryReport:
    total = RepositoryReport("")
    for each in found:
        total.figures.merge(each.figures)
        for figure in PULL_FIGURES.values():
            setattr(total.pulls, figure, getattr(total.pulls, figure) + getattr(each.pulls, figure))
        for name, n in each.causes.items():
            total.causes[name] = total.causes.get(name, 0) + n
    return total


def percent(rate: float | None) -> str:
    """`67%`, or `—` for no rate (no pull request decided yet)."""
    return "—" if rate is None else f"{rate:.0%}"


def parse_since(text: str) -> float:
    """Seconds from `30d`, `12h` or `2w` (at most MAX_DAYS days); ValueError for anything else."""
    text = text.strip().lower()
    unit = {"h": 3600.0, "d": DAY, "w": 7 * DAY}.get(text[-1:])
    number = text[:-1]
    if unit is None or not number.isdigit() or not number.isascii() or len(number) > 4 or int(number) == 0:
        raise ValueError(f"{text!r} is not a number of hours, days or weeks (12h, 30d, 2w)")
    seconds = int(number) * unit
    if seconds > MAX_DAYS * DAY:
        raise ValueError(f"at most {MAX_DAYS} days")
    return seconds
