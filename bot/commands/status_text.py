"""The status comment's body within GitHub's limit, however many sessions a pull request has. Pure.

GitHub refuses a comment body over 65,536 characters, and a pull request's table and its log summaries
grow with every session. What gives, in order: the oldest rows of the table (one line then says how
many, and where to see them), then the older summaries (one line each, pointing to `/session log N`
and the session's page on the bot), then the oldest of those lines (counted in one line). The newest
summaries stay folded in, each collapsed in a `<details>`.
"""

from __future__ import annotations

from bot.commands import session_text
from bot.commands.kept_summaries import Kept, unsummarised
from bot.logs.render import size, summary_markdown

LIMIT = 65_536  # GitHub's (422 beyond it)
MAX_CHARS = 64_000  # the body's own bound, with room to spare (sizes are UTF-16 code units, as GitHub may count)
TABLE_CHARS = 24_000  # at most this much table: summaries need the room more than old rows
FOLD_CHARS = 8_000  # one folded summary; `/session log N` has the longer one
MAX_FOLDS = 10  # newest summaries folded in at most (the rest are one line each)
LINES_RESERVE = 3_000  # kept from the folds for the one-line summaries of older sessions


def fitted(head: str, table: str, tail: str, pr_sessions, kept: dict[int, Kept], *, prefix: str,
           public_url: str | None = None) -> str:
    """`head`, then the sessions `table` (its newest rows that fit), then the kept log summaries of
    `pr_sessions` (`kept`, by run id: the newest folded, older ones a line each), then `tail`: at most
    MAX_CHARS, whatever is in them. Links go to the bot's session pages when `public_url` is known."""
    fixed = size(head) + size(tail) + 8
    shown = fit_table(table, min(TABLE_CHARS, MAX_CHARS - fixed), earlier=f"`{prefix} list`")
    section = summaries(pr_sessions, kept, MAX_CHARS - fixed - size(shown), prefix=prefix, public_url=public_url)
    return "\n\n".join(part for part in (head, shown, section, tail) if part)


def fit_table(table: str, room: int, *, earlier: str) -> str:
    """A markdown table (a header, then one row per line, oldest first) in at most `room`: its newest
    rows that fit, and a line saying how many earlier ones are left out and where they are (`earlier`)."""
    if size(table) <= room:
        return table
    lines = table.split("\n")
    header, rows = lines[:2], lines[2:]
    note_room = 200 + size(earlier)
    used = size("\n".join(header)) + note_room
    kept: list[str] = []
    for row in reversed(rows):
        if used + size(row) + 1 > room:
            break
        kept.insert(0, row)
        used += size(row) + 1
    left = len(rows) - len(kept)
    note = f"_{left} earlier session{'' if left == 1 else 's'} not shown here: {earlier}._"
    return "\n".join(header + kept) + "\n\n" + note if kept else note


def summaries(pr_sessions, kept: dict[int, Kept], room: int, *, prefix: str, public_url: str | None) -> str:
    """The log summaries section in at most `room`, newest first: folded while they fit (leaving
    LINES_RESERVE for the rest), then one line each, then a count of those left out."""
    done = [s for s in pr_sessions if s.run_id in kept]
    if not done:
        return ""
    title = "#### Log summaries, newest first"
    used = size(title) + 200  # and the closing count
    folds: list[str] = []
    lines: list[str] = []
    left = 0
    for session in reversed(done):
        found = kept[session.run_id]
        fold = None
        if not lines and len(folds) < MAX_FOLDS and (found.summary or found.failure):
            fold = _fold(session, found, min(FOLD_CHARS, room - used - LINES_RESERVE))
        part = fold or _line(session, prefix, public_url)  # from the first line on, one line each
        if left or used + size(part) + 2 > room:  # and every older one: those shown stay the newest
            left += 1
            continue
        (folds if fold else lines).append(part)
        used += size(part) + 2
    if left:
        lines.append(f"- {left} earlier session{'' if left == 1 else 's'}: `{prefix} log N` gives session N's.")
    return "\n\n".join([title, *folds] + (["\n".join(lines)] if lines else []))


def _facts(session) -> str:
    """`Session 3: ❌ failed, 14m 05s`: bot text only."""
    return (f"Session {session.number}: {session_text.state(session.state)}, "
            f"{session_text.duration(_seconds(session))}")


def _seconds(session) -> float | None:
    start = session.started_at or session.created_at
    return session.finished_at - start if start and session.finished_at else None


def _fold(session, found: Kept, room: int) -> str | None:
    """One session's summary collapsed in `<details>`, in at most `room`; None if it cannot fit."""
    if room < 1_000:
        return None
    if found.summary is not None:
        body = summary_markdown(found.summary, state=session.state, duration=_seconds(session),
                                run_url=session.html_url, log_url=session.html_url, max_chars=room - 300)
    else:
        text = unsummarised(session, found.failure)
        body = text[0].upper() + text[1:]
    # Blank lines around the body, or GitHub shows the markdown inside as raw text; one after
    # `</details>` too, or what follows it belongs to its HTML block.
    fold = f"<details><summary>{_facts(session)}</summary>\n\n{body}\n\n</details>"
    return fold if size(fold) <= room else None


def _line(session, prefix: str, public_url: str | None) -> str:
    """An older session's summary as one line: where to read it."""
    line = f"- {_facts(session)}: `{prefix} log {session.number}`"
    if public_url:
        line += f" · [its page]({public_url}/sessions/{session.id})"
    return line
