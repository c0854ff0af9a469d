"""Markdown the bot wrote (a `/session log` summary) as HTML for the page: cmark-gfm, then nh3's allow-list.

GitHub shows the same markdown by rendering it with cmark-gfm and sanitising the HTML with an
allow-list; the page does the same. The summariser makes every piece of outside text inert markdown
(bot/inert.py) and adds raw HTML of its own only for its sections (`<details>`, `<summary>`, `<sub>`):
cmark's safe mode would drop those, section titles and all, so raw HTML is rendered and nh3 is the
boundary. Its output is the only HTML the Agents page ever marks safe.
"""

from __future__ import annotations

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from markupsafe import Markup

# What a summary uses, as GitHub allows it in a comment; anything else is dropped, its text kept
# (a <script> or <style> goes with its content).
TAGS = frozenset({
    "a", "blockquote", "br", "code", "del", "details", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol",
    "p", "pre", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ATTRIBUTES = {"a": {"href"}, "details": {"open"}, "ol": {"start"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def to_html(markdown: str) -> Markup:
    """`markdown` rendered as GitHub renders a comment (its extensions) and sanitised: links keep
    only http(s)/mailto addresses and open nothing with the page's rights."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return Markup(nh3.clean(rendered, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                            url_schemes=set(URL_SCHEMES), link_rel="nofollow noopener noreferrer"))
