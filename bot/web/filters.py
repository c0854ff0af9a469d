"""The Agents page's filters, from a URL's query and back: repository, state, person, title search, paging.

Filters live in the URL so a view can be bookmarked and shared. What comes in is outside text:
each value is bounded and checked here, and a bad one is a `BadFilter` that says which and why
(the page shows it, the API answers 400 with it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping
from urllib.parse import quote, urlencode

from bot.patterns import linear
from bot.sessions import model, queries
from bot.web.viewer import Viewer

# The index's states, in the order the page lists them, and how it names each.
STATES = model.STATES
LABELS = {"queued": "queued", "in_progress": "running", "completed": "completed", "failed": "failed",
          "cancelled": "cancelled", "timed_out": "timed out"}
MAX_PER_PAGE = 100  # as GitHub's REST API
MAX_QUERY = 256  # GitHub's longest pull-request title
MAX_CURSOR = 200

# GitHub's owner and repository names (Enterprise Managed Users' logins add `_shortcode`).
_REPOSITORY = linear(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9_.-]{1,100}")
_LOGIN = linear(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_DIGITS = linear(r"[0-9]{1,3}")


class BadFilter(ValueError):
    """A filter in the URL that cannot be used; `message` says which and why, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Filters:
    """What the list shows: the filters (each None when not given) and which page of it."""

    repository: str | None = None  # owner/name, in any case
    state: str | None = None  # one of STATES
    person: str | None = None  # the login that started the session
    q: str | None = None  # part of the pull request's title, in any case
    cursor: str | None = None  # where the page starts: the `next_cursor` of the page before
    per_page: int = queries.PAGE_SIZE

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> "Filters":
        """Filters from a query's arguments (an empty value is no filter; unknown names are ignored);
        BadFilter for a value that cannot be one."""
        value = {name: (args.get(name) or "").strip() or None
                 for name in ("repository", "state", "person", "q", "cursor", "per_page")}
        if value["repository"] and not _REPOSITORY.fullmatch(value["repository"]):
            raise BadFilter("repository must be a repository's full name, owner/name.")
        if value["state"] and value["state"] not in STATES:
            raise BadFilter(f"state must be one of {', '.join(STATES)}.")
        if value["person"] and not _LOGIN.fullmatch(value["person"]):
            raise BadFilter("person must be a GitHub login.")
        if value["q"]:
            _check_text(value["q"])
        if value["cursor"]:
            _check_cursor(value["cursor"])
        per_page = queries.PAGE_SIZE
        if value["per_page"]:
            if not _DIGITS.fullmatch(value["per_page"]) or not 1 <= int(value["per_page"]) <= MAX_PER_PAGE:
                raise BadFilter(f"per_page must be a number from 1 to {MAX_PER_PAGE}.")
            per_page = int(value["per_page"])
        return cls(repository=value["repository"], state=value["state"], person=value["person"], q=value["q"],
                   cursor=value["cursor"], per_page=per_page)

    def query_string(self) -> str:
        """These filters as a URL query (without `?`; "" for none), in a fixed order: a link to this view."""
        pairs = [(name, getattr(self, name)) for name in ("repository", "state", "person", "q")]
        if self.per_page != queries.PAGE_SIZE:
            pairs.append(("per_page", str(self.per_page)))
        pairs.append(("cursor", self.cursor))
        return urlencode([(k, v) for k, v in pairs if v], quote_via=quote, safe="/")

    def changed(self, **changes) -> "Filters":
        """These filters with some changed, from the first page (unless a `cursor` is given)."""
        return replace(self, **{"cursor": None, **changes})

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set (paging aside)."""
        return any((self.repository, self.state, self.person, self.q))

    def scope(self, viewer: Viewer) -> queries.Scope:
        """What the index is asked for: the viewer's repositories, narrowed by these filters."""
        return queries.Scope(repository_ids=viewer.repository_ids, repository=self.repository, state=self.state,
                             starter=self.person, title=self.q)


def _check_text(text: str) -> None:
    if len(text) > MAX_QUERY:
        raise BadFilter(f"q must be at most {MAX_QUERY} characters.")
    # PostgreSQL refuses NUL in text and UTF-8 has no lone surrogates: neither can be in a title.
    if any(ord(char) < 32 or 0xD800 <= ord(char) <= 0xDFFF for char in text):
        raise BadFilter("q must be text without control characters.")


def _check_cursor(cursor: str) -> None:
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError(cursor)
        queries.decode_cursor(cursor)
    except ValueError:
        raise BadFilter("cursor is not one this list gave; start again from the first page.") from None
