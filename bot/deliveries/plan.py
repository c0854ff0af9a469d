"""Which failed webhook deliveries to ask GitHub to redeliver: a pure decision over plain data.

GitHub's log of the App's webhook (`GET /app/hook/deliveries`) has one entry per attempt; the
attempts of one event share its `guid`, and redeliveries are flagged `redelivery: true`. An event
is redelivered only when no attempt succeeded, the bot never stored it, every failure was one
the bot did not choose (no answer, or a 5xx), it is within GitHub's 3-day retention, and it has
not used up its attempts. The bot's deliberate refusals (401 bad signature, 400, 413, …) would
be refused again, so they are never redelivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from bot.patterns import linear

GITHUB_RETENTION = 3 * 86400.0  # GitHub keeps (and can redeliver) deliveries this long
# After asking, GitHub's new attempt shows up in its log within seconds. Until it does, the event
# waits; if it never does, the request counts as an attempt spent and the event may be asked again.
PENDING_TIMEOUT = 600.0
# GitHub's times are whole seconds on GitHub's clock; the bot's are its own. An attempt logged up to
# this long before the bot's request is still taken as the answer to it.
CLOCK_SLACK = 60.0
# GitHub's `status` for an attempt that got no HTTP answer (with status_code 0, or a 5xx-like code).
_NO_ANSWER = linear(r"tim(ed|e)\s*out|connect|reset|refused|unreachable|resolve|dns|ssl|tls|eof|broken pipe",
                    ignore_case=True)


@dataclass(frozen=True)
class Attempt:
    """One entry of GitHub's delivery log (schema `hook-delivery-item`), the fields that matter here."""

    id: int
    guid: str
    delivered_at: float  # unix seconds
    status_code: int
    status: str
    redelivery: bool
    event: str
    action: str | None = None

    @classmethod
    def from_github(cls, item: dict) -> "Attempt":
        """Read a `hook-delivery-item` as GitHub's API returns it."""
        return cls(id=int(item["id"]), guid=item["guid"], delivered_at=parse_time(item["delivered_at"]),
                   status_code=int(item.get("status_code") or 0), status=item.get("status") or "",
                   redelivery=bool(item.get("redelivery")), event=item.get("event") or "",
                   action=item.get("action"))

    @property
    def outcome(self) -> str:
        """"ok" (2xx), "refused" (a 4xx the bot gave on purpose), "failed" (no answer or a 5xx), "other"."""
        code = self.status_code
        if 200 <= code < 300:
            return "ok"
        if code == 0 or code >= 500 or (code not in range(400, 500) and _NO_ANSWER.search(self.status)):
            return "failed"
        if 400 <= code < 500:
            return "refused"
        return "other"  # 1xx/3xx: a redirect means a misconfigured URL; repeating it cannot help

    def describe(self) -> str:
        """How it failed, as an operator reads it: "503 Invalid HTTP Response: 503", "timed out"."""
        if self.status_code and self.status:
            return f"{self.status_code} {self.status}"
        return self.status or str(self.status_code)


@dataclass(frozen=True)
class Requested:
    """What the bot itself asked GitHub for one guid: how many redeliveries, the latest when."""

    count: int
    last_at: float


@dataclass(frozen=True)
class Decision:
    """What to do with one event (guid) that has at least one failed attempt."""

    guid: str
    verdict: str  # "redeliver" | "skip" | "later" (over this run's limit, or waiting on GitHub)
    reason: str
    latest: Attempt  # its newest attempt: the one to redeliver
    attempt: int = 0  # for "redeliver": which redelivery this is (1-based)


@dataclass(frozen=True)
class Plan:
    """The decisions, oldest event first; how many events had succeeded; how far back the next run
    needs to look again (`examined_until`: everything older is settled)."""

    decisions: list[Decision]
    succeeded: int
    examined_until: float | None

    def of(self, verdict: str) -> list[Decision]:
        """The decisions with this verdict."""
        return [d for d in self.decisions if d.verdict == verdict]


def parse_time(text: str) -> float:
    """GitHub's ISO 8601 time ("2021-05-12T20:33:44Z") as unix seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def plan(attempts: Iterable[Attempt], *, stored: set[str], requested: dict[str, Requested], now: float,
         max_attempts: int, limit: int) -> Plan:
    """Decide, for every event in `attempts` (GitHub's log, any order), whether to redeliver it.

    `stored`: guids the bot has in its deliveries table. `requested`: what the bot already asked per
    guid. At most `limit` redeliveries; past it, events wait for the next run, oldest first served.
    """
    by_guid: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_guid.setdefault(attempt.guid, []).append(attempt)
    newest = max((a.delivered_at for group in by_guid.values() for a in group), default=None)

    succeeded, decisions = 0, []
    # Oldest event first: nearest to leaving GitHub's retention, and the order things happened.
    for guid, group in sorted(by_guid.items(), key=lambda item: min((a.delivered_at, a.id) for a in item[1])):
        group.sort(key=lambda a: (a.delivered_at, a.id))
        if any(a.outcome == "ok" for a in group):
            succeeded += 1
            continue
        latest = group[-1]
        verdict, reason = _decide(group, latest, guid in stored, requested.get(guid), now, max_attempts)
        attempt = 0
        if verdict == "redeliver":
            if sum(d.verdict == "redeliver" for d in decisions) >= limit:
                verdict, reason = "later", f"over this run's limit of {limit} redeliveries"
            else:
                attempt = _spent(group, requested.get(guid)) + 1
                reason = f"attempt {attempt} of {max_attempts}: GitHub's last try got {latest.describe()}"
        decisions.append(Decision(guid, verdict, reason, latest, attempt))

    # Events left for later must be listed again next time; everything else is settled.
    held = [d.latest.delivered_at for d in decisions if d.verdict == "later"]
    examined_until = min([newest, *held]) if newest is not None else None
    return Plan(decisions, succeeded, examined_until)


def _decide(group: list[Attempt], latest: Attempt, stored: bool, requested: Requested | None, now: float,
            max_attempts: int) -> tuple[str, str]:
    if stored:
        return "skip", "the bot has it stored (GitHub missed the bot's answer)"
    refused = next((a for a in group if a.outcome == "refused"), None)
    if refused:
        return "skip", f"the bot refused it on purpose ({refused.describe()}); never redelivered"
    if latest.outcome == "other":
        return "skip", f"the bot answered {latest.describe()}; a redelivery would get the same"
    if latest.delivered_at < now - GITHUB_RETENTION:
        return "skip", "older than GitHub's 3-day retention"
    if requested and now - requested.last_at < PENDING_TIMEOUT and not any(
            a.redelivery and a.delivered_at >= requested.last_at - CLOCK_SLACK for a in group):
        return "later", "a redelivery was asked for; waiting for GitHub's attempt"
    spent = _spent(group, requested)
    if spent >= max_attempts:
        return "skip", f"gave up after {spent} redeliveries (REDELIVERY_MAX_ATTEMPTS)"
    return "redeliver", ""


def _spent(group: list[Attempt], requested: Requested | None) -> int:
    # Every redelivery the bot asked for shows up in GitHub's log as a `redelivery: true` attempt,
    # so the two counts overlap: the larger one is the attempts spent (a person's redeliveries from
    # GitHub's UI count too; the bot's own count covers attempts older than the listing looked).
    return max(sum(a.redelivery for a in group), requested.count if requested else 0)
