"""bot/cmark.py: GitHub's parser, walked node by node, every tree freed."""

from __future__ import annotations

import resource

from bot import cmark


def kinds(markdown: str) -> list[str]:
    with cmark.parsed(markdown) as document:
        return [cmark.kind(node) for entering, node in cmark.walk(document) if entering]


def test_a_comment_parses_as_github_parses_it_with_its_extensions():
    assert kinds("| a |\n|---|\n| b |") == ["document", "table", "table_header", "table_cell", "text",
                                           "table_row", "table_cell", "text"]
    assert kinds("~~gone~~ www.example.com") == ["document", "paragraph", "strikethrough", "text", "text", "link",
                                                 "text"]
    assert kinds("- [x] done") == ["document", "list", "item", "paragraph", "text"]  # the box is not text
    assert kinds("note[^1]\n\n[^1]: here") == ["document", "paragraph", "text", "footnote_reference",
                                              "footnote_definition", "paragraph", "text"]


def test_children_and_literals():
    with cmark.parsed("a `b`\u2028c\n\n> q") as document:
        blocks = list(cmark.children(document))
        assert [cmark.kind(block) for block in blocks] == ["paragraph", "block_quote"]
        assert [cmark.literal(node) for node in cmark.children(blocks[0])] == ["a ", "b", "\u2028c"]


def test_text_python_cannot_encode_is_parsed_not_refused():
    assert kinds("a \ud800 b") == ["document", "paragraph", "text"]


def test_parsing_frees_what_it_allocates():
    """cmarkgfm's own `github_flavored_markdown_to_html` keeps its tree and its HTML: on this body it
    grew the process by about 4 MB a call. A worker parses every comment for as long as it runs."""
    body = ("/session stop\n*a* `b` <!-- c -->\n> q\n" * 2000)[:65_536]
    kinds(body)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(100):
        kinds(body)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000, f"grew {grown_kb} KB"
