"""Which lines of a comment are commands (what each means: tests/test_commands_registry.py)."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import cmarkgfm
import pytest
from hypothesis import example, given, strategies as st

from bot import cmark
from bot.commands.command_lines import DEFAULT_PREFIX, _starts_with_word, added_commands, find_commands


@pytest.mark.parametrize("body, commands", [
    ("/session list", ["/session list"]),
    ("   /session stop 2  ", ["/session stop 2"]),
    ("Thanks!\n/session log\nand\n/session stop", ["/session log", "/session stop"]),
    ("/sessionfoo", []),
    ("/session-list", []),
    ("please /session stop", []),
    ("> /session stop", []),
    ("`/session stop`", []),
    ("```\n/session stop\n```\n/session list", ["/session list"]),
    ("~~~~sh\n/session stop\n~~~\n/session stop\n~~~~\n/session log", ["/session log"]),
    ("<!--\n/session stop\n-->\n/session help", ["/session help"]),
    ("/session list\r\n/session log 1\r\n", ["/session list", "/session log 1"]),
    ("/session list\r/session log 1", ["/session list", "/session log 1"]),
    ("Please:\n    /session stop", ["/session stop"]),  # indented, but it continues a paragraph
    ("[docs]: https://example.com\n/session list", ["/session list"]),
    ("", []),
])
def test_which_lines_are_commands(body, commands):
    assert [c.text for c in find_commands(body)] == commands
    assert [c.position for c in find_commands(body)] == list(range(len(commands)))


def test_a_configured_prefix_replaces_session():
    assert [c.text for c in find_commands("/agent stop\n/session stop", prefix="/agent")] == ["/agent stop"]


@pytest.mark.parametrize("before, after, added", [
    ("/session list", "/session list\n/session stop", ["/session stop"]),
    ("/session list", "typo fixed\n/session list", []),
    ("/session log", "/session stop\n/session log", ["/session stop"]),
    ("/session log", "/session log\n/session log", ["/session log"]),
    ("nothing", "/session   LOG", ["/session   LOG"]),
    ("/session LOG", "/session log", []),
    ("> /session stop", "> /session stop\n\n/session stop", ["/session stop"]),  # quoting, then giving it
    ("/session stop", "> /session stop\n\n/session list", ["/session list"]),
    ("    /session stop", "/session stop", ["/session stop"]),  # un-indented: now a paragraph line
])
def test_an_edit_runs_only_the_commands_it_added(before, after, added):
    assert [c.text for c in added_commands(after, before)] == added


# Issue 12: a command is what GitHub shows. Each row was run as a command before (the old parser split
# lines with `str.splitlines()` and knew only fences, `>` and a comment opened at a line's start).
@pytest.mark.parametrize("body", [
    "how far is it? \u2028/session stop all",  # GitHub ends lines at \n and \r only
    "how far is it? \u2029/session stop all",
    "how far is it? \x85/session stop all",
    "how far is it? \v/session stop all",
    "how far is it? \f/session stop all",
    "    /session stop",  # an indented code block
    "Logs:\n\n    $ make\n    /session stop",
    "<pre>\n/session stop\n</pre>",  # an HTML block: shown as preformatted text, not a paragraph
    "> quote\n/session stop",  # a lazy continuation line belongs to the quote
    "> quote\n> more\n/session stop all",
    "- item\n/session stop",  # …and to a list item
    "see <!-- hidden\n/session stop\n-->",  # an HTML comment opened mid-line hides the lines after
    "see <!-- hidden --> and <!-- this too\n/session stop\n-->\n",
    "see `code\n/session stop` here",  # a code span across a line break
    "![screenshot\n/session stop](https://example.com/a.png)",  # an image's description is not shown
    "<details>\n<summary>Old log</summary>\n/session stop\n</details>",  # raw HTML inside <details>
])
def test_what_github_does_not_show_as_a_paragraph_line_is_not_a_command(body):
    assert find_commands(body) == []


def test_a_quoted_reply_with_a_line_separator_runs_only_the_repliers_command():
    """The reproduction: a reader's text, quote-replied by a maintainer who added a command."""
    body = "> how far is it? \u2028/session stop all\n\n/session list"

    assert [c.text for c in find_commands(body)] == ["/session list"]


@pytest.mark.parametrize("body, commands", [
    # A paragraph inside <details>, set apart by blank lines, is rendered as markdown and shown once
    # the fold is opened: it is a command. Text within the raw HTML (no blank line) is not.
    ("<details>\n<summary>Commands</summary>\n\n/session stop 1\n\n</details>", ["/session stop 1"]),
    ("<details open>\n\n/session list\n/session log 2\n\n</details>\n/session help",  # after </details>: HTML too
     ["/session list", "/session log 2"]),
    ("<details>\n<summary>Commands</summary>\n/session stop 1\n</details>\n\n/session list", ["/session list"]),
    ("<details><summary>/session stop</summary>\n\n/session list\n\n</details>", ["/session list"]),
])
def test_details_count_as_github_renders_them(body, commands):
    assert [c.text for c in find_commands(body)] == commands


@pytest.mark.parametrize("body, commands", [
    ("see <!-- a -->\n/session list", ["/session list"]),  # the comment closed on its own line
    ("*stop it*\n/session stop", ["/session stop"]),
    ("**Please**  \n/session log", ["/session log"]),  # after a hard line break
    ("text\\\n/session log", ["/session log"]),
    ("\ue000/session list", []),  # private-use characters cannot forge find_commands' marker
    ("/session list \ue0001\ue001\n\ue0000\ue001", ["/session list \ue0001\ue001"]),
])
def test_what_github_shows_at_the_start_of_a_paragraph_line_is_a_command(body, commands):
    assert [c.text for c in find_commands(body)] == commands


# -- properties: what find_commands finds is what GitHub's renderer shows ----------------------

COMMAND = st.builds(lambda prefix, words: " ".join([prefix, *words]),
                    st.sampled_from(["/session", "/SESSION", "/Session", "/sessions", "/session-x"]),
                    st.lists(st.sampled_from(["stop", "all", "list", "log", "1", "#2", "--full", "help"]), max_size=3))
# Pieces of markdown that make or break blocks and inlines, and the characters Python alone calls line breaks.
PIECE = st.sampled_from([
    "> ", ">", "- ", "* ", "1. ", "    ", "\t", "  ", "```", "~~~", "`", "``", "<!--", "-->", "<pre>", "</pre>",
    "<details>", "</details>", "<summary>s</summary>", "<div>", "<b>", "</b>", "***", "---", "===", "| a | b |",
    "|---|---|", "[^1]: ", "[^1]", "[x]: https://e.com", "[x](https://e.com", ")", "![", "](a.png)", "\\", "*", "_",
    "~~", "# ", "www.example.com", "&amp;", "&#47;", "&#47;", "\u2028", "\u2029", "\x85", "\v", "\f", "\u00a0", "text",
    "how far is it?", " ",
])
LINE = st.one_of(COMMAND, st.lists(st.one_of(PIECE, COMMAND), max_size=4).map("".join))
BODY = st.lists(LINE, max_size=12).flatmap(
    lambda lines: st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), min_size=len(lines), max_size=len(lines))
    .map(lambda ends: "".join(line + end for line, end in zip(lines, ends))))


class _TopLevelParagraphLines(HTMLParser):
    """The lines of the top-level <p> elements of cmark's HTML; a tag or raw HTML inside becomes \\0."""

    BLOCKS = {"blockquote", "ul", "ol", "li", "pre", "table", "section", "div", "details", "h1", "h2", "h3", "h4",
              "h5", "h6", "p"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.current, self.lines = 0, None, []

    def handle_starttag(self, tag, attrs):
        if tag == "p" and self.depth == 0:
            self.current = []
        elif tag == "br":
            pass
        elif self.current is not None:
            self.current.append("\0")
        if tag in self.BLOCKS:
            self.depth += 1

    def handle_startendtag(self, tag, attrs):
        if self.current is not None and tag != "br":
            self.current.append("\0")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.depth -= 1
        if tag == "p" and self.depth == 0 and self.current is not None:
            self.lines += "".join(self.current).split("\n")
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current.append(data)

    def handle_comment(self, data):  # cmark without its unsafe option writes raw HTML as a comment
        if self.current is not None:
            self.current.append("\0")


def shown_commands(body: str, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """The lines of top-level paragraphs, in cmark-gfm's own HTML, that start with the prefix as a word."""
    reader = _TopLevelParagraphLines()
    reader.feed(cmarkgfm.github_flavored_markdown_to_html(body, options=cmark.OPTIONS))
    reader.close()
    return [line for line in reader.lines if _starts_with_word(line.lstrip(" \t"), prefix)]


def _shows(written: str, shown: str) -> bool:
    """True when the line shown could start as the line written, rendered: the text it starts with,
    before any tag (a code span may join the next line), appears in the written line (entities
    decoded or not: `\\&amp;` shows `&amp;`), in order, spaces aside."""
    start = "".join(shown.split("\0")[0].split())
    for text in (written, html.unescape(written)):
        rest = iter("".join(text.split()))
        if all(char in rest for char in start):
            return True
    return False


@given(BODY)
@example("> how far is it? \u2028/session stop all\n\n/session list")
@example("<details>\n<summary>s</summary>\n\n/session stop\n\n</details>\n/session list\n")
def test_the_commands_found_are_the_paragraph_lines_github_shows_starting_with_the_prefix(body):
    """An oracle independent of find_commands' walk: cmarkgfm's own HTML renderer (GitHub's flavour).

    Each command found is a line of a top-level paragraph shown starting with the prefix, in order.
    A line shown so may also come from an escape or an entity (`\\/session`, `&#47;session`), which
    find_commands does not take for the prefix; without them, the two lists are the same.
    """
    found = [c.text for c in find_commands(body)]
    shown = shown_commands(body)
    if "\\" not in body and "&" not in body:
        assert len(found) == len(shown), (found, shown)
    remaining = iter(shown)
    assert all(any(_shows(text, line) for line in remaining) for text in found), (found, shown)


@given(BODY)
def test_nothing_in_code_quotes_lists_or_html_comments_is_a_command(body):
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fence = "`" * (max((len(run) for run in "".join(c if c == "`" else " " for c in body).split()), default=0) + 3)
    # Within a paragraph, an HTML comment is one only without "--" inside, and the lines that start
    # with the prefix are those that start no block (which would end the paragraph, and the comment).
    inline = "\n".join(line for line in lines if _starts_with_word(line.lstrip(" \t"), DEFAULT_PREFIX))
    inline = inline.replace("-", "_")
    wrapped = {
        "fenced": f"{fence}\n{body}\n{fence}",
        "quoted": "\n".join("> " + line for line in lines),
        "indented": "\n".join("    " + line for line in lines),
        "listed": "- item\n" + "\n".join("  " + line for line in lines),
        "commented": f"<!--\n{body.replace('-->', '- ->')}\n-->",
        "commented mid-line": f"see <!--\n{inline}\n-->",
    }
    for how, text in wrapped.items():
        assert find_commands(text) == [], how
