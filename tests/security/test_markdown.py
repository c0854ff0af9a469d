"""Text from users and logs cannot break out of the bot's code spans, code blocks or fences.

Backtick runs inside code spans/blocks and unclosed fences are covered in tests/test_redact.py
(test_code_span_survives_backticks_and_newlines, test_code_block_fence_is_longer_than_any_backtick_run_inside,
test_an_unclosed_fence_is_closed_so_it_cannot_swallow_the_comment); mentions, references and HTML
in test_neutralised_text_cannot_ping_link_or_inject, and a planted token and mention in every part
of a log summary in tests/test_logs_render.py (test_a_planted_token_and_mention_never_reach_the_comment_raw).
Here: the breakouts those left open, found for this suite (issue 6).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from bot.commands import replies
from bot.inert import ZWSP, code_block, code_span, neutralise

# CommonMark ends a line at "\n", "\r\n" or a lone "\r"; a fence closes only at its own indentation or less.
FENCE_LINE = re.compile(r"^( *)(`{3,}|~{3,})")


def code_lines(markdown: str) -> set[int]:
    """Indexes of the lines inside top-level fences, as GitHub reads them when every fence is at column 0."""
    inside, fence, lines = set(), "", re.split(r"\r\n|\r|\n", markdown)
    for n, line in enumerate(lines):
        found = FENCE_LINE.match(line)
        if fence:
            inside.add(n)
            if found and found.group(2)[0] == fence[0] and len(found.group(2)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = ""
        elif found:
            assert found.group(1) == "", f"a fence not at the line's start: {line!r}"
            fence = found.group(2)
    return inside


@pytest.mark.parametrize("text", [
    "done\r```\r@octocat see </details>",                 # a lone CR starts a fence GitHub sees
    "done\r\n~~~\r\n@octocat",
    "- a step\n  ```\n@octocat <b>x</b>\n",              # a fence inside a list item ends with the item
    "1. a step\n   ~~~\n@octocat\n~~~",
    "- a\n\n  ```\n  code\n  ```\n@octocat",
])
def test_log_markdown_cannot_leave_code_with_a_live_mention(text):
    out = neutralise(text)
    inside = code_lines(out)
    for n, line in enumerate(out.split("\n")):
        if n not in inside:
            assert "@octocat" not in line and "<" not in line, f"live outside code: {line!r}\n{out!r}"
    assert "\r" not in out


@pytest.mark.parametrize("text", ["a\rb", "a\r\nb", "x\r# @octocat", "`\r```\r</details>"])
def test_inline_code_stays_on_one_line(text):
    span = code_span(text)
    assert "\r" not in span and "\n" not in span
    ticks = re.match(r"`+", span).group(0)
    assert span.endswith(ticks) and ticks not in span[len(ticks):-len(ticks)]


@pytest.mark.parametrize("text", ["ok\r```\r@octocat", "ok\r\n````\r\n</details>", "```` \r~~~"])
def test_a_code_block_cannot_be_closed_from_inside(text):
    block = code_block(text)
    lines = block.split("\n")
    assert "\r" not in block
    assert code_lines(block) == set(range(1, len(lines)))  # everything after the opener is code
    assert lines[-1] == lines[0]  # and only the bot's own fence closes it


@pytest.mark.parametrize("command", [
    "/session log `x` ``` @everyone",
    "/session ````</details>````",
    "/session list <img src=x onerror=alert(1)> @octo-org/admins #1",
])
def test_a_quoted_command_stays_inside_its_inline_code(command):
    run = SimpleNamespace(text=command, comment_id=1, position=0, sender_login="hubot")
    quoted = replies.render(run, "answer").split("\n")[1]
    assert quoted.startswith("> `")
    span = quoted[2:]
    ticks = re.match(r"`+", span).group(0)
    assert span.endswith(ticks) and ticks not in span[len(ticks):-len(ticks)], quoted


def test_neutralised_prose_still_reads_the_same():
    assert neutralise("- step\n  ```\ncode\n```").replace(ZWSP, "") == "- step\n```\ncode\n```"
