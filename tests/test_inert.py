"""Text quoted from a log or a user can neither ping, cross-link nor inject markup."""

import pytest

from bot.inert import ZWSP, code_block, code_span, neutralise, one_line


@pytest.mark.parametrize("text, raw", [
    ("thanks @someone!", "@someone"),
    ("cc @octo-org/reviewers", "@octo-org/reviewers"),
    ("fixes #123", "#123"),
    ("see octo-org/hello#45", "hello#45"),
    ("see GH-12", "GH-12"),
    ("https://github.com/octo-org/hello/issues/7", "https://github.com"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ("</details><details open>", "</details>"),
    ("a & b", "a & b"),
])
def test_neutralised_text_cannot_ping_link_or_inject(text, raw):
    assert raw not in neutralise(text)


def test_mentions_and_references_read_the_same_to_people():
    assert neutralise("@someone fixed #12").replace(ZWSP, "") == "@someone fixed #12"


def test_code_is_left_literal_because_github_does_not_interpret_it():
    assert neutralise("run `<b>@x</b>` now") == "run `<b>@x</b>` now"
    fenced = "intro\n```python\nif a < b: print('@x #1')\n```\n<b>"
    assert neutralise(fenced) == "intro\n```python\nif a < b: print('@x #1')\n```\n&lt;b&gt;"


def test_an_unclosed_fence_is_closed_so_it_cannot_swallow_the_comment():
    assert neutralise("text\n```\ncode <b>").endswith("```\ncode <b>\n```")
    assert neutralise("~~~~\ncode\n~~~").endswith("~~~\n~~~~")


def test_a_backtick_after_a_backslash_does_not_open_a_code_span():
    assert "<b>" not in neutralise(r"\`<b>`")


def test_one_line_collapses_and_shortens():
    assert one_line("fix\n  the @parser", 12) == f"fix the @{ZWSP}pa…"


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
