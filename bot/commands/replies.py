"""Replies to commands: one comment per command, found again by the id the database keeps.

A reply carries a hidden marker naming its command. The marker is only for recovery: when a
POST failed ambiguously (a timeout after the request was sent) the comment may exist, so the
retry looks for the marker before posting again. The happy path spends no extra call on it.
"""

from __future__ import annotations

from bot.commands.registry import CommandCall, interpret
from bot.commands.runs import update_run
from bot.errors import TransientError
from bot.github import api
from bot.inert import code_span
from bot.redact import redact


def marker(run, suffix: str = "") -> str:
    """The hidden marker of the reply to command run `run` (`suffix` tells later posts apart)."""
    parsed = interpret(run.text)
    name = parsed.name if isinstance(parsed, CommandCall) else "invalid"
    return f"<!-- session-bot:reply {run.comment_id}:{run.position}{':' + suffix if suffix else ''} {name} -->"


def reply_body(run, body: str, suffix: str = "") -> str:
    """The whole reply: marker, the command quoted, the commenter mentioned, the answer."""
    quoted = code_span(redact(run.text))
    return f"{marker(run, suffix)}\n> {quoted}\n\n@{run.sender_login} {body}"


def post_new(client, run, body: str, *, suffix: str, retrying: bool) -> int:
    """Post a further comment answering `run` (notifying the asker); a retry first looks for it."""
    if retrying and (found := _find(client, run, suffix)) is not None:
        return found
    text = reply_body(run, body, suffix)
    return api.post_comment(client, run.repository, run.pr_number, text)


def send(engine, client, run, body: str) -> int:
    """Create or edit the reply to `run`; returns the reply's comment id."""
    text = reply_body(run, body)
    reply_id = run.reply_comment_id
    if reply_id is None and run.reply_uncertain:
        reply_id = _find(client, run)
    if reply_id is not None:
        api.edit_comment(client, run.repository, reply_id, text)
    else:
        try:
            reply_id = api.post_comment(client, run.repository, run.pr_number, text)
        except TransientError as exc:
            if getattr(exc, "ambiguous", False):
                update_run(engine, run.id, reply_uncertain=True)
            raise
    update_run(engine, run.id, reply_comment_id=reply_id, reply_uncertain=False)
    return reply_id


def _find(client, run, suffix: str = "") -> int | None:
    wanted = marker(run, suffix)
    for comment in api.comments(client, run.repository, run.pr_number):
        if (comment.get("body") or "").startswith(wanted):
            return comment["id"]
    return None
