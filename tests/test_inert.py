"""Text quoted from a log or a user reads the same, and can neither ping, cross-link nor inject markup.

What GitHub's renderer makes of it is in tests/security/test_markdown.py; these are the plain cases.
"""

import pytest

from bot.inert import ZWSP, code_block, code_span, one_line, prose, table_cell
from tests.markdown_oracle import live


@pytest.mark.parametrize("text, raw", [
    ("thanks @someone!", "@someone"),
    ("cc @octo-org/reviewers", "@octo-org/reviewers"),
    ("fixes #123", "#123"),
    ("see octo-org/hello#45", "hello#45"),
    ("see GH-12", "GH-12"),
    ("https://github.com/octo-org/hello/issues/7", "https://github.com"),
    ("![x](https://evil.example/p.png)", "!["),
    ("[click](https://evil.example)", "[click]"),
])
def test_outside_text_cannot_ping_link_or_inject(text, raw):
    assert raw not in prose(text) and raw not in one_line(text)


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "</details><details open>", "&#64;x", "<!-- -->"])
def test_html_and_entities_are_escaped(text):
    assert one_line(text).replace("\\<", "").count("<") == 0
    assert "&" not in one_line(text).replace("\\&", "")


def test_every_ascii_punctuation_character_is_escaped_and_nothing_else():
    assert one_line("a-b_c (d) ü 1.") == "a\\-b\\_c \\(d\\) ü 1\\."


def test_mentions_and_references_read_the_same_to_people():
    assert prose("@someone fixed #12").replace(ZWSP, "") == "\\@someone fixed \\#12"


def test_code_spans_are_re_emitted_by_the_bot_and_lines_keep_their_headings_lists_and_quotes():
    assert prose("## Done\n- Fixed `parse()` for @x\n> 1. `a` ``b`c``") == \
        f"## Done\n- Fixed `parse()` for \\@{ZWSP}x\n> 1\\. `a` ``b`c``"  # one marker a line is kept
    # As in CommonMark: a backslash is literal inside code, so the second backtick closes the first.
    assert one_line("`unclosed and \\`escaped` `") == "`unclosed and \\`escaped`   `"


def test_prose_keeps_its_lines_and_its_code_blocks():
    fenced = "intro\n```python\nif a < b: print('@x #1')\n```\n<b>"
    assert prose(fenced) == "intro\n```python\nif a < b: print('@x #1')\n```\n\\<b\\>"


def test_an_unclosed_fence_ends_with_the_text_and_cannot_swallow_the_comment():
    assert prose("text\n```\ncode <b>") == "text\n```\ncode <b>\n```"
    assert prose("~~~~\ncode\n~~~") == "```\ncode\n~~~\n```"


def test_a_fences_language_is_kept_only_when_it_is_a_plain_word():
    assert prose("```py\nx\n```").startswith("```py\n")
    assert prose("~~~ <img src=x> `\nx\n~~~").startswith("```\n")


def test_line_endings_are_those_github_sees():
    assert prose("a\r\nb\rc") == "a\nb\nc"


def test_one_line_collapses_and_shortens():
    assert one_line("fix\n  the @parser", 12) == f"fix the \\@{ZWSP}pa…"


@pytest.mark.parametrize("text", ["plain", "``` inside ```", "````\nfour\n````", "a `tick`"])
def test_code_block_fence_is_longer_than_any_backtick_run_inside(text):
    block = code_block(text)
    fence = block.split("\n", 1)[0]
    assert set(fence) == {"`"} and len(fence) >= 3
    assert block.endswith("\n" + fence)
    assert all(len(run) < len(fence) for run in text.split() if set(run) == {"`"})


def test_code_span_survives_backticks_and_newlines():
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("two\nlines") == "`two lines`"


@pytest.mark.parametrize("text", ["`|a|b|\n|-|-|`", "a|b", "\\|", "``|``", "x\\", "|", "`x` | `y`"])
def test_a_table_cell_keeps_its_row_whatever_pipes_and_backticks_it_holds(text):
    row = f"| who | link |\n|---|---|\n| {table_cell(text)} | [run](https://example.com/run) |"
    assert live(row).links == ["https://example.com/run"]
    assert live(row).elements == live("| who | link |\n|---|---|\n| x | y |").elements
