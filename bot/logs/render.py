"""Render a session Summary as a GitHub comment: a headline and collapsible sections, within the size limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable

from bot.logs.files import FileActivity
from bot.logs.summary import MESSAGE_CHARS, Sample, ShellCommand, Summary
from bot.inert import code_block, code_span, one_line, prose
from bot.redact import redact

# GitHub refuses comments over 65,536 characters; the caller adds a header and a marker.
MAX_CHARS = 60_000
STATES = {"completed": "✅", "success": "✅", "failure": "❌", "failed": "❌", "cancelled": "⏹️",
          "timed_out": "⏱️", "in_progress": "🔄", "running": "🔄", "queued": "⏳"}


def size(text: str) -> int:
    """Length as GitHub may count it (UTF-16 code units), never less than len(text)."""
    return len(text.encode("utf-16-le")) // 2


def summary_markdown(summary: Summary, *, state: str, duration: float | timedelta | None, run_url: str,
           log_url: str, full: bool = False, max_chars: int = MAX_CHARS) -> str:
    """The `/session log` comment body for `summary` (at most `max_chars`, if the headline and footer
    leave room for anything); `full` gives each section more room."""
    more = f"[the full log]({log_url})"
    headline = _headline(summary, state, duration, run_url, log_url)
    footer = _footer(summary)
    # Sections in order of importance, each with its share of what the headline and footer leave.
    room = max_chars - size(headline) - size(footer) - 200
    shares = [(0.10, _progress), (0.15, _files), (0.40, _commands), (0.25, _final), (0.10, _errors)]
    if not full:
        room = min(room, 20_000)
    parts = [headline]
    spare = 0
    for share, section in shares:
        budget = int(room * share) + spare
        text = section(summary, budget, more, full)
        spare = max(budget - size(text), 0)
        if text:
            parts.append(text)
    parts.append(footer)
    body = "\n\n".join(parts)
    if size(body) > max_chars:  # a section overran its budget: never post what GitHub would refuse
        body = f"{headline}\n\nThe summary is too long to post; see {more}.\n\n{footer}"
    return body


def _headline(s: Summary, state: str, duration, run_url: str, log_url: str) -> str:
    facts = [f"{STATES.get(state, '•')} **{state.replace('_', ' ')}**"]
    if duration is not None:
        facts.append(f"in {format_duration(duration)}")
    if s.models:
        facts.append("model " + ", ".join(code_span(redact(m)) for m in s.models))
    if s.requests:
        facts.append(f"{_count(s.total_tokens)} tokens ({_count(s.prompt_tokens)} in, "
                     f"{_count(s.completion_tokens)} out, {s.requests} requests)")
    title = f"\n**{one_line(s.pr_title)}**" if s.pr_title else ""
    return f"### Copilot session log\n{' · '.join(facts)} · [run]({run_url}) · [log]({log_url}){title}"


def format_duration(duration: float | timedelta) -> str:
    """`1h 02m`, `12m 05s` or `45s`."""
    seconds = int(duration.total_seconds() if isinstance(duration, timedelta) else duration)
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _count(n: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}".replace(".0", "")
    return str(n)


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    # Blank lines around the body, or GitHub renders the markdown inside as raw text.
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _fit(items: Iterable[str], budget: int, missing: int, more: str, *, count: int | None = None) -> str:
    """As many items as fit in `budget`, and a note of how many did not (`missing` were never kept).
    `items` may be lazy (then `count` says how many there are): only those tried are rendered."""
    shown, used = [], 0
    for item in items:
        if used + size(item) + 1 > budget - 120:
            break
        shown.append(item)
        used += size(item) + 1
    left = (len(items) if count is None else count) - len(shown) + missing
    if left:
        shown.append(f"… and {left} more: see {more}.")
    return "\n".join(shown)


def _sampled(sample: Sample, render_item: Callable, budget: int, more: str, keep=lambda x: True) -> str:
    """Head and tail of a sample (the items `keep` accepts), the gap between them said, within `budget`."""
    head = [render_item(x) for x in sample.head if keep(x)]
    tail = [render_item(x) for x in sample.tail if keep(x)]
    if not sample.omitted:
        return _fit(head + tail, budget, 0, more)
    first = _fit(head, budget // 2, 0, more)
    last, used = [], 0
    for item in reversed(tail):  # the end of a session matters most: keep the latest
        if used + size(item) + 1 > budget // 2 - 120:
            break
        last.insert(0, item)
        used += size(item) + 1
    gap = f"… {sample.omitted + len(tail) - len(last)} more (see {more}) …"
    return "\n".join(x for x in (first, gap, "\n".join(last)) if x)


def _progress(s: Summary, budget: int, more: str, full: bool) -> str:
    if not s.progress.total and not s.pr_description:
        return ""
    body = _sampled(s.progress, lambda m: f"1. {one_line(m)}", budget * 2 // 3, more)
    if s.pr_description and full:
        description = prose(s.pr_description)
        if size(description) < budget - size(body) - 100:
            body += "\n\n**Latest description**\n\n" + description
    return _details(f"Progress: {_n(s.progress.total, 'report')}", body, open_=True)


def _files(s: Summary, budget: int, more: str, full: bool) -> str:
    if not s.files and not s.elsewhere:
        return ""
    groups = [("Created", [f for f in s.files if f.created], _file_item),
              ("Edited", [f for f in s.files if f.edits and not f.created], _file_item),
              ("Read only", [f for f in s.files if f.reads and not f.edits and not f.created], _file_item),
              # Never mixed with the repository's: the runner's _temp, /tmp, the home directory…
              ("Outside the repository", s.elsewhere, _outside_item)]
    groups = [group for group in groups if group[1]]
    blocks = []
    for title, files, item in groups:
        missing = s.files_omitted if title == groups[-1][0] else 0  # files never kept: said once, last
        # Rendered lazily: a summary keeps up to 1,000 files, and a fold shows a few dozen.
        blocks.append(f"**{title}** ({len(files)})\n" + _fit(map(item, files), budget // len(groups), missing, more,
                                                             count=len(files)))
    summary = f"Files: {s.creates} created, {_n(s.edits, 'edit')}, {_n(s.reads, 'read')}"
    return _details(summary, "\n\n".join(blocks))


def _file_item(f: FileActivity) -> str:
    return f"- {code_span(f.path)}" + (f" ×{f.edits}" if f.edits > 1 else "")


def _outside_item(f: FileActivity) -> str:
    if f.created:
        done = "created"
    elif f.edits:
        done = "edited" + (f" ×{f.edits}" if f.edits > 1 else "")
    else:
        done = "read"
    return f"- {code_span(f.path)} ({done})"


def _command_item(c: ShellCommand, excerpts: bool) -> str:
    mark = "❌" if c.failed else ("✅" if c.exit_code == 0 else "•")
    exit_note = f" (exit {c.exit_code})" if c.exit_code not in (None, 0) else ""
    item = f"- {mark} {code_span(c.command)}{exit_note}"
    if excerpts and c.excerpt:
        item += "\n\n" + "\n".join("  " + ln for ln in code_block(c.excerpt).splitlines())
    return item


def _commands(s: Summary, budget: int, more: str, full: bool) -> str:
    if not s.commands.total:
        return ""
    failed = s.failures.total
    summary = f"Commands: {s.commands.total} run, {_n(s.tests.total, 'test run')}" + (f", ❌ {failed} failed" if failed else "")
    blocks = []
    if s.tests.total:
        blocks.append("**Test runs**\n" + _sampled(s.tests, lambda c: _command_item(c, c.failed or full),
                                                    budget * 2 // 5, more))
    if any(not c.test for c in s.failures.head + s.failures.tail):
        blocks.append("**Other failures**\n" + _sampled(s.failures, lambda c: _command_item(c, True), budget // 5,
                                                         more, keep=lambda c: not c.test))
    blocks.append("**All commands**\n" + _sampled(s.commands, lambda c: _command_item(c, False),
                                                  budget * 2 // 5, more))
    return _details(summary, "\n\n".join(blocks), open_=bool(failed))


def _final(s: Summary, budget: int, more: str, full: bool) -> str:
    if not s.final_message:
        return ""
    text = prose(s.final_message)
    if size(text) > budget - 200:
        text = prose(_clip(s.final_message, budget - 400)) + f"\n\n… (cut short: see {more})"
    elif len(s.final_message) >= MESSAGE_CHARS:  # the summary kept only its start
        text += f"\n\n… (cut short: see {more})"
    title = "Final message" if s.finished else "Last message (the agent did not finish)"
    return _details(title, text, open_=True)


def _clip(text: str, budget: int) -> str:
    """The start of `text` in about `budget` characters, ending at a line break when there is one."""
    cut = text[:max(budget, 0) // 3]  # escaping can triple text: `@x` becomes `\@` + ZWSP + `x`
    return cut[:cut.rfind("\n")] if "\n" in cut else cut


def _errors(s: Summary, budget: int, more: str, full: bool) -> str:
    if not s.errors.total:
        return ""
    body = _sampled(s.errors, lambda e: f"- {one_line(e, 300)}", budget, more)
    return _details(f"Errors: {s.errors.total}", body, open_=True)


def _footer(s: Summary) -> str:
    tools = ", ".join(f"{code_span(redact(name))} ×{n}" for name, n in list(s.tools.items())[:30])
    skipped = [f"{n} {what}" for n, what in ((s.stats.malformed, "malformed lines"),
                                             (s.stats.oversized, "oversized lines")) if n]
    note = f" · skipped {', '.join(skipped)}" if skipped else ""
    return f"<sub>Tools: {tools or 'none'}{note}</sub>"
