"""`/insights`: what the viewer's sessions cost in time, what became of them and of their pull requests,
why they failed, and a chart of them per day: the figures `flask --app app sessions report` prints.

Read from the index and what jobs derived beside it (bot/sessions/report.py), narrowed to the
repositories the viewer may see; opening it makes no GitHub call. The window and the repository are
in the URL (`?since=30d&repository=owner/name`), so a view can be bookmarked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import quote, urlencode

from flask import request

from bot.commands.session_text import duration
from bot.runtime import current_runtime
from bot.sessions import failures, queries, report
from bot.sessions.task_usage import said
from bot.web import chart
from bot.web.access import current_viewer
from bot.web.filters import BadFilter
from bot.web.pages import blueprint, error, page

SINCE_CHOICES = ("7d", "30d", "90d")
DEFAULT_SINCE = "30d"


@dataclass(frozen=True)
class Choice:
    """What the page shows: sessions created in the last `since` (`30d`…), of one repository or all."""

    since: str = DEFAULT_SINCE
    repository: str | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> "Choice":
        """The choice in a query's arguments; BadFilter naming what cannot be read."""
        since = (args.get("since") or "").strip().lower() or DEFAULT_SINCE
        try:
            report.parse_since(since)
        except ValueError as exc:
            raise BadFilter(f"since must be a number of hours, days or weeks, such as 30d ({exc}).") from None
        repository = (args.get("repository") or "").strip() or None
        if repository and len(repository) > 201:
            raise BadFilter("repository must be a repository's full name, owner/name.")
        return cls(since=since, repository=repository)

    @property
    def seconds(self) -> float:
        return report.parse_since(self.since)

    def query_string(self) -> str:
        """This choice as a URL query (without `?`)."""
        pairs = [("since", self.since if self.since != DEFAULT_SINCE else None), ("repository", self.repository)]
        return urlencode([(k, v) for k, v in pairs if v], quote_via=quote, safe="/")


@blueprint.get("/insights")
def insights_page():
    """The report of the viewer's repositories over the chosen window."""
    viewer = current_viewer()
    if viewer is None:
        return page("signin_needed.html", active="insights")
    try:
        choice = Choice.parse(request.args)
    except BadFilter as bad:
        return error(400, "Cannot show these insights", bad.message)
    runtime = current_runtime()
    until = time.time()
    with runtime.engine.connect() as conn:
        found = report.build(conn, since=until - choice.seconds, until=until, repository_ids=viewer.repository_ids,
                             repository=choice.repository, agent_logins=runtime.settings.copilot_logins)
        names = queries.repository_names(conn, viewer.repository_ids)
    return page("insights.html", active="insights", report=found, choice=choice, names=names,
                since_choices=sorted(set(SINCE_CHOICES) | {choice.since}, key=report.parse_since),
                chart=chart.day_chart(found.days), outcomes=report.OUTCOMES, outcome_labels=report.LABELS,
                cause_labels=failures.LABELS, duration=duration, percent=report.percent, usage_said=said,
                since_words=since_words)


def since_words(since: str) -> str:
    """`30d` → `30 days`, `12h` → `12 hours`, `1w` → `1 week`."""
    number, unit = int(since[:-1]), {"h": "hour", "d": "day", "w": "week"}[since[-1]]
    return f"{number} {unit}{'' if number == 1 else 's'}"
