"""GitHub's own renderer as a test oracle: what in a comment body renders live.

cmarkgfm binds GitHub's fork of cmark, the parser GitHub renders comments with. A comment holding
outside text is compared with the same comment whose outside fields are a plain `x`: both must have
the same links, images and HTML elements. GitHub finds mentions and references in the rendered text
afterwards, so the oracle also scans the text outside code and links for them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# Raw HTML kept in the output, so HTML that got through shows as an element (GitHub renders it
# too, then sanitises it with an allow-list that lets <img>, <a>, <details> and many more through).
OPTIONS = Options.CMARK_OPT_UNSAFE
# Markdown's own structure: how many of each a comment has depends on its data (a field with a
# line break may end a list item sooner), and none of it is live. Links and images are compared
# by address; every other element can only come from raw HTML, and is compared by count.
STRUCTURE = {"p", "br", "pre", "code", "em", "strong", "del", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
             "blockquote", "hr", "table", "thead", "tbody", "tr", "th", "td", "input", "a", "img"}
QUIET = {"code", "pre", "a"}  # GitHub looks for mentions and references in none of these
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
REFERENCE = re.compile(r"(?<![\w&])#\d|\bGH-\d|https?://(?:www\.)?github\.com/[^\s/]+/[^\s/]+/(?:issues|pull|discussions)/\d",
                       re.IGNORECASE)


@dataclass
class Live:
    """What renders live in a comment: elements (but text structure), links, images, pings, references."""

    elements: Counter = field(default_factory=Counter)
    links: list = field(default_factory=list)
    images: list = field(default_factory=list)
    mentions: list = field(default_factory=list)
    references: list = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live = Live()
        self.quiet = 0

    def handle_starttag(self, tag, attrs):
        self._element(tag, dict(attrs))
        if tag in QUIET:
            self.quiet += 1

    def handle_startendtag(self, tag, attrs):
        self._element(tag, dict(attrs))

    def handle_endtag(self, tag):
        if tag in QUIET:
            self.quiet -= 1
        if tag not in STRUCTURE:  # a stray </details> closes the bot's own early
            self.live.elements["/" + tag] += 1

    def handle_comment(self, data):
        self.live.elements["<!-- -->"] += 1

    def handle_data(self, data):
        if not self.quiet:
            self.live.mentions += MENTION.findall(data)
            self.live.references += REFERENCE.findall(data)

    def _element(self, tag, attrs):
        if tag not in STRUCTURE:
            self.live.elements[tag] += 1
        if tag == "a":
            self.live.links.append(attrs.get("href"))
        elif tag == "img":
            self.live.images.append(attrs.get("src"))


def render(markdown: str) -> str:
    """The HTML GitHub's parser makes of a comment body (before GitHub's sanitiser)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, OPTIONS)


def live(markdown: str) -> Live:
    """What renders live in `markdown`."""
    reader = _Reader()
    reader.feed(render(markdown))
    reader.close()
    return reader.live


def assert_inert(comment: str, baseline: str) -> None:
    """`comment` (outside text in its fields) has nothing live that `baseline` (each field `x`) lacks."""
    got, expected = live(comment), live(baseline)
    assert got == expected, f"live in the comment: {got}\nin its baseline: {expected}\ncomment:\n{comment}"
