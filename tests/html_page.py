"""A rendered page parsed for tests: its elements and attributes, its text (entities decoded), and
the content of its <template> elements kept apart (inert until a script copies it)."""

from __future__ import annotations

from html.parser import HTMLParser


class Page(HTMLParser):
    """The parsed page: its elements (tag, attributes) and its text; a <template>'s content apart."""

    def __init__(self, html: str):
        super().__init__()
        self.elements, self.text, self.template = [], [], []
        self.in_template = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        (self.template if self.in_template else self.elements).append((tag, dict(attrs)))
        self.in_template += tag == "template"

    def handle_endtag(self, tag):
        self.in_template -= tag == "template"

    def handle_data(self, data):
        if not self.in_template:
            self.text.append(data)

    def find(self, tag=None, **attrs) -> list[dict]:
        """Elements (outside any <template>) with these attributes; `data_state=` means `data-state`."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [a for t, a in self.elements
                if (tag is None or t == tag) and all(a.get(k) == v for k, v in wanted.items())]

    def one(self, tag=None, **attrs) -> dict:
        """The one element with these attributes (the test fails if there are none or several)."""
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]

    @property
    def all_text(self) -> str:
        """The page's text as a reader sees it (markup that was escaped is text here)."""
        return "".join(self.text)
