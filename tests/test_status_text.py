"""The status comment's body (bot/commands/status_text.py with status_body), pure: under GitHub's
65,536 characters however many sessions and however long their summaries, the newest summaries
folded in, and what is inside a fold rendering as markdown, inert (GitHub's own renderer)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings

from bot.commands.kept_summaries import Kept, NotSummarised
from bot.commands.status_text import LIMIT, MAX_FOLDS, fit_table
from bot.handlers.status_comment import MARKER, status_body
from bot.logs.render import size
from bot.logs.summary import (COMMAND_CHARS, EXCERPT_CHARS, LINE_CHARS, MESSAGE_CHARS, NAME_CHARS, FileActivity,
                              Sample, ShellCommand, Summary)
from tests.markdown_oracle import assert_inert, live, render
from tests.security.test_markdown import BREAKOUT, HOSTILE, REPRODUCTIONS, summary_of

T0 = 1_780_000_000.0
URL = "https://bot.example.com"


def session(number: int, *, starter: str = "monalisa", state: str = "completed", repo: str = "octo-org/app"):
    return SimpleNamespace(id=1000 + number, number=number, run_id=5000 + number, run_attempt=1, repository_id=1,
                           state=state, starter=starter, job_id=9000 + number, backfilled=False,
                           html_url=f"https://github.com/{repo}/actions/runs/{5000 + number}",
                           created_at=T0 + number * 3600, started_at=T0 + number * 3600 + 5,
                           finished_at=None if state == "in_progress" else T0 + number * 3600 + 845)


def body(sessions, kept, *, stops=None, public_url=URL, prefix="/session") -> str:
    return status_body(sessions, closed=None, now=T0 + 10**6, prefix=prefix, stops=stops, kept=kept,
                       public_url=public_url)


def folded(text: str) -> list[int]:
    """The session numbers whose summary is folded in, in order."""
    return [int(part.split(":", 1)[0]) for part in text.split("<details><summary>Session ")[1:]]


def lines_of(text: str) -> list[int]:
    return [int(line.split(":", 1)[0][len("- Session "):]) for line in text.split("\n") if line.startswith("- Session ")]


def test_without_kept_summaries_the_body_is_the_table_and_the_hint():
    text = body([session(1), session(2, state="in_progress")], None)
    assert text.startswith(MARKER) and "Log summaries" not in text and "<details>" not in text
    assert "| 2 | **🟢 running** | monalisa |" in text


@pytest.mark.parametrize("count, folds, lines", [
    (1, [1], []),
    (3, [3, 2, 1], []),
    (MAX_FOLDS + 3, list(range(MAX_FOLDS + 3, 3, -1)), [3, 2, 1]),
])
def test_the_newest_summaries_are_folded_and_older_ones_are_a_line_each(count, folds, lines):
    sessions = [session(n) for n in range(1, count + 1)]
    kept = {s.run_id: Kept(summary=summary_of("a short summary")) for s in sessions}
    text = body(sessions, kept)
    assert folded(text) == folds and lines_of(text) == lines
    for number in lines:
        assert f"`/session log {number}` · [its page]({URL}/sessions/{1000 + number})" in text


def test_the_session_page_is_linked_only_when_the_bots_address_is_known():
    sessions = [session(n) for n in range(1, MAX_FOLDS + 2)]
    kept = {s.run_id: Kept(summary=summary_of("x")) for s in sessions}
    assert "[its page]" in body(sessions, kept) and "[its page]" not in body(sessions, kept, public_url=None)
    assert "- Session 1: ✅ completed, 14m 00s: `/agent log 1`" in body(sessions, kept, public_url=None, prefix="/agent")


def test_a_summary_read_only_as_kept_is_a_line_and_one_that_failed_says_why_in_its_fold():
    sessions = [session(1), session(2), session(3, state="failed"), session(4, state="in_progress")]
    kept = {5001: Kept(), 5002: Kept(summary=summary_of("x")), 5003: Kept(failure=NotSummarised("timeout", 60.0))}
    text = body(sessions, kept)
    assert folded(text) == [3, 2] and lines_of(text) == [1]
    assert ("<details><summary>Session 3: ❌ failed, 14m 00s</summary>\n\nThe log of session 3 could not be "
            "summarised in time (within 60 s)") in text
    assert text.endswith("for more.")  # the hint stays last


def test_what_is_folded_still_renders_as_markdown():
    text = body([session(1)], {5001: Kept(summary=summary_of("x"))})
    html = render(text)
    assert html.count("<details") == html.count("</details>") >= 2
    assert "<h3>Copilot session log</h3>" in html, "the summary inside the fold is markdown, not raw text"
    assert "<code>x</code>" in html
    assert "```" not in html and "**" not in html


def assert_nothing_live(comment: str, baseline: str) -> None:
    """tests/markdown_oracle.assert_inert, but a fold's sections may say "see the full log" (a link the
    bot makes, to the run) more often when the text is long: links compared as a set of addresses."""
    got, expected = live(comment), live(baseline)
    assert set(got.links) == set(expected.links)
    got.links, expected.links = [], []
    assert got == expected, f"live in the comment: {got}\nin its baseline: {expected}\ncomment:\n{comment}"


@pytest.mark.parametrize("text", REPRODUCTIONS)
def test_a_hostile_summary_starter_and_stop_render_nothing_live(text):
    assert_inert(hostile_body(text), hostile_body("x"))


@settings(max_examples=40, deadline=None)
@given(text=HOSTILE)
def test_generated_hostile_text_renders_nothing_live(text):
    assume(text)
    assert_nothing_live(hostile_body(text), hostile_body("x"))


def hostile_body(text: str) -> str:
    sessions = [session(n, starter=text) for n in range(1, 4)]
    kept = {5001: Kept(summary=summary_of(text)), 5002: Kept(failure=NotSummarised("failed", 1.0)),
            5003: Kept(summary=summary_of(text))}
    return body(sessions, kept, stops={5003: (text, "page", "cancelled")})


def worst_text(n: int, salt: str = "") -> str:
    """`n` characters that cost the most to escape (each becomes two or three), and start live things."""
    return (salt + "@|`<#_[" * n)[:n]


def worst_summary() -> Summary:
    """A summary with every text as long as the summariser keeps it (bot/logs/summary.py's limits)."""
    command = ShellCommand(worst_text(COMMAND_CHARS), "", 1, test=True, failed=True, excerpt=worst_text(EXCERPT_CHARS))
    commands = Sample([command] * 20, [command] * 20, 10_000)
    return Summary(models=[worst_text(NAME_CHARS, str(i)) for i in range(5)], requests=9, prompt_tokens=10**9,
                   progress=Sample([worst_text(LINE_CHARS)] * 20, [worst_text(LINE_CHARS)] * 20, 500),
                   pr_title=worst_text(LINE_CHARS), pr_description=worst_text(6000),
                   files=[FileActivity(worst_text(LINE_CHARS, str(i)), edits=2) for i in range(1000)],
                   commands=commands, tests=commands, failures=commands,
                   tools={worst_text(NAME_CHARS, str(i)): 3 for i in range(100)},
                   final_message=worst_text(MESSAGE_CHARS), finished=True,
                   errors=Sample([worst_text(LINE_CHARS)] * 10, [worst_text(LINE_CHARS)] * 10, 99))


def worst_session(number: int):
    """A session whose every outside text is as long and as costly to escape as it can be."""
    return session(number, starter="@|`#" * 50, repo="o" * 39 + "/" + "r" * 100)


def test_five_hundred_sessions_with_the_longest_hostile_texts_stay_under_the_limit():
    sessions = [worst_session(n) for n in range(1, 501)]
    huge = worst_summary()
    kept = {s.run_id: Kept(summary=huge) for s in sessions[-MAX_FOLDS:]}
    kept.update({s.run_id: Kept() for s in sessions[:-MAX_FOLDS]})
    stops = {s.run_id: ("@|`#" * 50, "page", "force_cancelled") for s in sessions}
    text = body(sessions, kept, stops=stops, public_url=URL + "/" + "p" * 500)

    assert size(text) <= LIMIT and len(text) <= LIMIT
    assert folded(text)[0] == 500, "the newest summary is folded in"
    shown = folded(text) + lines_of(text)
    assert shown == list(range(500, 500 - len(shown), -1)), "the newest, folded, then a line each, none skipped"
    assert "| 500 |" in text and "earlier sessions not shown here: `/session list`" in text
    assert "earlier sessions: `/session log N` gives session N's." in text
    found = live(text)
    assert found.mentions == [] and found.references == [] and found.images == []
    assert set(found.elements) <= {"details", "/details", "summary", "/summary", "sub", "/sub", "<!-- -->"}
    assert found.elements["details"] == found.elements["/details"]
    assert {link.split("/actions/")[0] for link in found.links} <= {f"https://github.com/{'o' * 39}/{'r' * 100}",
                                                                   f"{URL}/{'p' * 500}/sessions"} | {
        f"{URL}/{'p' * 500}/sessions/{n}" for n in range(1001, 1501)}


@given(text=HOSTILE)
@settings(max_examples=25, deadline=None)
def test_any_hostile_text_in_many_sessions_stays_under_the_limit(text):
    sessions = [session(n, starter=text * 20) for n in range(1, 120)]
    kept = {s.run_id: Kept(summary=summary_of(text * 500)) for s in sessions}
    assert size(body(sessions, kept, stops={s.run_id: (text * 20, "page", "cancelled") for s in sessions})) <= LIMIT


@pytest.mark.parametrize("rows, room, shown, note", [
    (3, 10_000, [1, 2, 3], None),
    (300, 2_000, None, "earlier sessions not shown here: `/x list`."),
    (1, 10, [], "_1 earlier session not shown here: `/x list`._"),
])
def test_a_table_keeps_its_newest_rows_that_fit(rows, room, shown, note):
    table = "\n".join(["| # | x |", "|---|---|"] + [f"| {n} | {'y' * 20} |" for n in range(1, rows + 1)])
    fitted = fit_table(table, room, earlier="`/x list`")
    assert size(fitted) <= max(room, size(fitted.split("\n")[-1]))
    numbers = [int(line.split(" ")[1]) for line in fitted.split("\n") if line.startswith("| ") and line[2].isdigit()]
    if shown is not None:
        assert numbers == shown
    else:
        assert numbers == list(range(rows - len(numbers) + 1, rows + 1)) and numbers
    assert (note is None) == ("not shown" not in fitted) and (note is None or note in fitted)


def test_the_breakout_stays_inside_its_fold():
    text = hostile_body(BREAKOUT)
    html = render(text)
    assert html.count("<details") == html.count("</details>")
