"""Pull-request pages on the fake's web host, for `make demo`: a pull request's comments as GitHub renders
them (cmark-gfm, GitHub's extensions, its safe mode), and a form to add one, which the fake delivers to
the bot's webhook (`fake.webhook_url`, signed with `fake.webhook_secret`) as GitHub would.

    GET  /{owner}/{repo}/pull/{number}            the comments, the form
    POST /{owner}/{repo}/pull/{number}/comments   `body`: a comment by whoever is signed in (else monalisa)
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import cmarkgfm

from .wire import Recorded, Response

if TYPE_CHECKING:
    from .server import FakeGitHub

DEFAULT_AUTHOR = "monalisa"


def answer(fake: FakeGitHub, req: Recorded) -> Response | None:
    """The page or the comment this request asks for, or None when it is not a pull request's."""
    parts = req.path.strip("/").split("/")
    if len(parts) < 4 or parts[2] != "pull" or not parts[3].isdigit():
        return None
    repo, number = f"{parts[0]}/{parts[1]}", int(parts[3])
    if fake.repositories.get(repo.lower()) is None or number not in fake.actions.pulls.get(repo.lower(), {}):
        return None
    if req.method == "GET" and len(parts) == 4:
        return _page(fake, repo, number)
    if req.method == "POST" and parts[4:] == ["comments"]:
        return _comment(fake, req, repo, number)
    return None


def _page(fake: FakeGitHub, repo: str, number: int) -> Response:
    pull = fake.actions.pulls[repo.lower()][number]
    items = "".join(
        f'<article class="comment"><h2>{html.escape(c["user"]["login"])} commented</h2>'
        f'{cmarkgfm.github_flavored_markdown_to_html(c["body"])}</article>'
        for c in fake.comments_on(repo, number))
    body = (f'<h1>{html.escape(pull["title"])} <span>#{number}</span></h1>'
            f'<p>{html.escape(repo)} · a pull request of the fake GitHub (a local simulation)</p>{items}'
            f'<form method="post" action="/{html.escape(repo)}/pull/{number}/comments">'
            '<label for="body">Comment</label><textarea id="body" name="body" rows="3">/session list</textarea>'
            '<button type="submit">Comment</button></form>'
            '<p>The bot answers in a second or two: reload this page to read its reply.</p>')
    return Response(200, _PAGE.format(title=html.escape(pull["title"]), body=body),
                    {"content-type": "text/html; charset=utf-8"})


def _comment(fake: FakeGitHub, req: Recorded, repo: str, number: int) -> Response:
    from tests.copilot_pr import comment_payload  # the test suite's payloads, GitHub's example reshaped
    from tests.fakegithub.payloads import deliver

    text = parse_qs(req.body.decode("utf-8", "replace")).get("body", [""])[-1]
    installation = next(i for i, names in fake.installation_repositories.items()
                        if repo.lower() in (n.lower() for n in names))
    _made, payload = comment_payload(fake, text, login=fake.signin.signed_in or DEFAULT_AUTHOR,
                                     installation=installation, repo=repo, pr=number)
    deliver(fake.webhook_url, "issue_comment", payload, fake.webhook_secret)
    return Response(303, None, {"location": f"/{repo}/pull/{number}"})


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem}}
.comment{{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem;margin:1rem 0}}
.comment h2{{font-size:14px;color:#57606a}}textarea{{width:100%}}table{{border-collapse:collapse}}
td,th{{border:1px solid #d0d7de;padding:2px 6px}}</style></head><body>{body}</body></html>"""
