"""`flask --app app sessions report`: the insights page's figures (bot/sessions/report.py) in a terminal,
as tables or as JSON, for every repository the bot knows (the operator's view) or one of them."""

from __future__ import annotations

import json
import time

import click

from bot.cli.sessions import sessions_group
from bot.commands.session_text import duration
from bot.runtime import current_runtime
from bot.sessions import failures, report
from bot.sessions.report import LABELS, OUTCOMES
from bot.sessions.task_usage import said


@sessions_group.command("report", help="What sessions cost in time, what became of them and of the agent's pull "
                                       "requests, and why they failed.")
@click.option("--since", "since_text", default="30d", show_default=True, metavar="12h|30d|2w",
              help="Sessions created this long ago or later.")
@click.option("--repo", "full_name", metavar="OWNER/NAME", help="Only this repository.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (run times in seconds).")
def sessions_report(since_text: str, full_name: str | None, as_json: bool):
    try:
        since = report.parse_since(since_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    runtime = current_runtime()
    until = time.time()
    with runtime.engine.connect() as conn:
        found = report.build(conn, since=until - since, until=until, repository=full_name,
                             agent_logins=runtime.settings.copilot_logins)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    for line in text(found):
        click.echo(line)


def text(found: report.Report) -> list[str]:
    """The report as lines of plain text: tables of outcomes and pull requests, causes, people, days."""
    lines = [f"Sessions created from {report.iso(found.since)} to {report.iso(found.until)}: "
             f"{found.totals.figures.sessions:,}"]
    if not found.repositories:
        return lines
    rows = [(r.repository, r.figures, r.pulls) for r in found.repositories]
    if len(rows) > 1:
        rows.append(("All repositories", found.totals.figures, found.totals.pulls))
    lines += ["", *_table(["Repository", "Sessions", *(LABELS[o].capitalize() for o in OUTCOMES), "Stuck", "Run time",
                           "Copilot usage", "Merged", "Closed unmerged", "Open", "Merge rate"],
                          [[name, *_figures(figures), str(pulls.merged), str(pulls.closed_unmerged),
                            str(pulls.still_open), report.percent(pulls.merge_rate)] for name, figures, pulls in rows])]
    lines += ["", "Why sessions failed:"]
    for found_repository in found.repositories:
        if found_repository.causes:
            total = sum(found_repository.causes.values())
            causes = ", ".join(f"{failures.LABELS[name]} ({n})" for name, n in found_repository.top_causes)
            lines.append(f"  {found_repository.repository} ({total} failed): {causes}")
            if found_repository.hint:
                lines.append(f"    {found_repository.hint.text} {found_repository.hint.url}")
    lines += ["", *_table(["Started by", "Sessions", *(LABELS[o].capitalize() for o in OUTCOMES), "Stuck", "Run time",
                           "Copilot usage"],
                          [[p.login or "unknown", *_figures(p.figures)] for p in found.people])]
    lines += ["", *_table(["Day (UTC)", *(LABELS[o].capitalize() for o in OUTCOMES)],
                          [[day, *(str(counts[o]) for o in OUTCOMES)] for day, counts in found.days])]
    return lines


def _figures(figures: report.Figures) -> list[str]:
    return [f"{figures.sessions:,}", *(f"{figures.outcomes[o]:,}" for o in OUTCOMES), f"{figures.stuck:,}",
            duration(figures.run_seconds) if figures.timed else "—", said(figures.usage)]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the figures right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in [header, *rows]]
