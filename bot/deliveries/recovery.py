"""Recover webhook deliveries GitHub failed to make: read the App's delivery log, ask for redeliveries.

GitHub does not redeliver by itself. The periodic `redeliver` job (every REDELIVERY_INTERVAL_SECONDS)
reads `GET /app/hook/deliveries` newest first, down to where its last run stopped (less a few
minutes, for attempts GitHub logs late), lets `plan` decide, and asks for each redelivery with
`POST /app/hook/deliveries/{id}/attempts`. `flask --app app deliveries redeliver` does the same over
a window the operator names, without moving the job's cursor.

Each request is recorded before it is sent, under a unique (guid, attempt): two runs at once can
never both ask for the same attempt, and a request whose answer was lost still counts as spent.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from bot.db import deliveries, dialect_insert, redelivery_cursor, redelivery_requests
from bot.deliveries.plan import GITHUB_RETENTION, Attempt, Decision, Plan, Requested, plan
from bot.errors import RetryLater, TransientError
from bot.github import api
from bot.github.errors import GitHubError
from bot.schedule import periodic

log = logging.getLogger(__name__)

CURSOR = "app"  # the App has one webhook
# Attempts can enter GitHub's log a little after their delivered_at (a timed-out one takes 10 s):
# each run looks this far behind the previous run's newest, and `plan` makes looking twice harmless.
OVERLAP = 300.0
_CHUNK = 500  # guids per IN (…) query


@dataclass
class Report:
    """What one recovery run saw and did."""

    plan: Plan
    since: float
    examined: int  # attempts read from GitHub's log
    dry_run: bool = False
    results: dict[str, str] = field(default_factory=dict)  # guid → what came of a "redeliver"

    @property
    def redelivered(self) -> list[Decision]:
        """The decisions to redeliver that GitHub accepted."""
        return [d for d in self.plan.of("redeliver") if self.results.get(d.guid) == "redelivered"]

    def lines(self) -> list[str]:
        """One line per event that failed at least once, then the totals."""
        out = []
        for d in self.plan.decisions:
            what = d.latest.event + (f".{d.latest.action}" if d.latest.action else "")
            if d.verdict == "redeliver":
                result = "would redeliver" if self.dry_run else self.results.get(d.guid, "not asked")
                out.append(f"{result:<15} {d.guid}  {what}  (delivery {d.latest.id}): {d.reason}")
            else:
                out.append(f"{'left for later' if d.verdict == 'later' else 'skipped':<15} {d.guid}  {what}: "
                           f"{d.reason}")
        asked = len(self.plan.of("redeliver")) if self.dry_run else len(self.redelivered)
        out.append(f"total: {asked} {'to redeliver' if self.dry_run else 'redelivered'}, "
                   f"{len(self.plan.of('skip')) + len(self.plan.of('redeliver')) - asked} skipped, "
                   f"{len(self.plan.of('later'))} left for later, {self.plan.succeeded} delivered fine "
                   f"({self.examined} attempts since {_iso(self.since)})")
        return out


def recover(runtime, *, since: float | None = None, limit: int | None = None, max_attempts: int | None = None,
            dry_run: bool = False) -> Report:
    """Examine GitHub's delivery log and ask for the redeliveries `plan` decides on.

    `since` (seconds back from now, at most 3 days): the window to examine, for the CLI; it leaves
    the periodic job's cursor alone. Without it, the run resumes where the last one stopped.
    `limit` and `max_attempts` default to REDELIVERY_MAX_PER_RUN and REDELIVERY_MAX_ATTEMPTS.
    """
    settings, engine = runtime.settings, runtime.engine
    now = time.time()
    oldest = now - GITHUB_RETENTION
    if since is not None:
        low = max(oldest, now - since)
    else:
        cursor = _cursor(engine)
        low = oldest if cursor is None else max(oldest, cursor - OVERLAP)

    client = runtime.github.app()
    attempts = []
    for item in api.hook_deliveries(client):
        attempt = Attempt.from_github(item)
        if attempt.delivered_at < low:
            break  # newest first: the rest were examined before, or are past GitHub's retention
        attempts.append(attempt)

    unsettled = {a.guid for a in attempts} - {a.guid for a in attempts if a.outcome == "ok"}
    decided = plan(attempts, stored=_stored(engine, unsettled), requested=_requested(engine, unsettled), now=now,
                   max_attempts=max_attempts or settings.redelivery_max_attempts,
                   limit=settings.redelivery_max_per_run if limit is None else limit)
    report = Report(decided, low, len(attempts), dry_run)
    if dry_run:
        return report
    for decision in decided.of("redeliver"):
        report.results[decision.guid] = _redeliver(runtime, client, decision)
    if since is None and decided.examined_until is not None:
        _save_cursor(engine, decided.examined_until)
    return report


@periodic("redeliver", lambda settings: settings.redelivery_interval)
def redeliver_job(runtime, job) -> None:
    """The periodic run of `recover` (nothing to do in setup mode: there is no App to ask)."""
    if runtime.github is None:
        return
    try:
        report = recover(runtime)
    except (TransientError, RetryLater, GitHubError) as exc:
        # The next slot runs soon anyway: retrying this one (or piling up dead ones) gains nothing.
        log.warning("delivery recovery skipped this time: %s", exc)
        return
    # Skips repeat every run while GitHub keeps the delivery (3 days): worth a line only when acting.
    acted = report.results or report.plan.of("later")
    log.log(logging.INFO if acted else logging.DEBUG, "delivery recovery: %s", report.lines()[-1])


def _redeliver(runtime, client, decision: Decision) -> str:
    """Record, then ask GitHub to redeliver; returns "redelivered" or why not."""
    with runtime.engine.begin() as conn:
        claimed = conn.execute(
            dialect_insert(conn, redelivery_requests)
            .values(guid=decision.guid, attempt=decision.attempt, hook_delivery_id=decision.latest.id,
                    requested_at=time.time())
            .on_conflict_do_nothing(index_elements=["guid", "attempt"])
            .returning(redelivery_requests.c.id)
        ).scalar_one_or_none()
    if claimed is None:
        return "skipped: another run asked for this attempt just now"
    try:
        api.redeliver(client, decision.latest.id)
    except GitHubError as exc:
        # 404/422: GitHub no longer has it (past retention) or will not redeliver it; counted as spent.
        _record(runtime.engine, claimed, f"refused: {exc.status} {exc.message}")
        log.warning("GitHub refused to redeliver %s: %s", decision.guid, exc)
        return f"GitHub refused: {exc.status} {exc.message}"
    except Exception as exc:
        _record(runtime.engine, claimed, f"unknown: {type(exc).__name__}")
        raise  # GitHub is failing or limiting us: the job retries later, this attempt counted as spent
    _record(runtime.engine, claimed, "accepted")
    log.info("asked GitHub to redeliver %s (%s, attempt %d)", decision.guid, decision.latest.event, decision.attempt)
    return "redelivered"


def _record(engine, request_id: int, outcome: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(redelivery_requests).where(redelivery_requests.c.id == request_id)
                     .values(outcome=outcome[:255]))


def _stored(engine, guids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(guids)
    with engine.connect() as conn:
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            found.update(conn.execute(select(deliveries.c.guid).where(deliveries.c.guid.in_(chunk))).scalars())
    return found


def _requested(engine, guids: set[str]) -> dict[str, Requested]:
    found: dict[str, Requested] = {}
    ordered = sorted(guids)
    table = redelivery_requests
    with engine.connect() as conn:
        for start in range(0, len(ordered), _CHUNK):
            rows = conn.execute(
                select(table.c.guid, func.count(), func.max(table.c.requested_at))
                .where(table.c.guid.in_(ordered[start:start + _CHUNK])).group_by(table.c.guid))
            found.update({guid: Requested(count, last_at) for guid, count, last_at in rows})
    return found


def _cursor(engine) -> float | None:
    with engine.connect() as conn:
        return conn.execute(select(redelivery_cursor.c.examined_until)
                            .where(redelivery_cursor.c.name == CURSOR)).scalar_one_or_none()


def _save_cursor(engine, examined_until: float) -> None:
    with engine.begin() as conn:
        statement = dialect_insert(conn, redelivery_cursor).values(
            name=CURSOR, examined_until=examined_until, updated_at=time.time())
        conn.execute(statement.on_conflict_do_update(
            index_elements=["name"], set_={"examined_until": examined_until, "updated_at": time.time()}))


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))
