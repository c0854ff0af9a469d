"""Webhook intake: verify, store, enqueue, acknowledge — and nothing slow.

A lean WSGI route in front of Flask, because this path is the bot's hot path: GitHub marks a
delivery failed if the answer is slow, and every microsecond here is multiplied by every event of
every installation. The signature is checked over the raw body before anything parses it; the
delivery row and its job are written in one transaction (a transactional outbox), so a stored
delivery is always processed and an unstored one was never acknowledged. A delivery no handler
would act on (the handlers' own `wants` tests say so) is stored as `ignored`, with no job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import string
from typing import Callable, Iterable

from bot import db, metrics
from bot.outbox import Outbox, Unavailable

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# What GitHub sends: event and action names are words (`issue_comment`, `in_progress`), delivery ids
# are UUIDs. Anything else is refused at the door rather than stored: a NUL, a lone surrogate or a
# control character cannot be written to PostgreSQL's text columns, and nothing downstream wants it.
_NAME = string.ascii_letters + string.digits + "_.-"
_GUID = "".join(map(chr, range(0x21, 0x7F)))  # visible ASCII
MAX_ID = 2**63 - 1  # GitHub's ids are positive and fit the BIGINT columns
log = logging.getLogger("bot.webhooks")


def _repository_of(payload: dict) -> str:
    """` on owner/name` for the log line, when the payload names a repository as GitHub spells one."""
    repository = payload.get("repository")
    name = repository.get("full_name") if isinstance(repository, dict) else None
    owner, _, rest = name.partition("/") if isinstance(name, str) else ("", "", "")
    return f" on {name}" if _made_of(owner, _NAME) and _made_of(rest, _NAME) else ""


def _made_of(text: str, characters: str) -> bool:
    """1–64 characters, all of them in `characters` (a plain scan: a regex call costs ~25× more here)."""
    return 0 < len(text) <= 64 and not text.strip(characters)


def verify_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True if `X-Hub-Signature-256` is HMAC-SHA256(body) under any of the secrets (rotation)."""
    if not header or not header.startswith("sha256="):
        return False
    given = header[len("sha256="):].encode()
    valid = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        # No early exit: time does not tell which secret, if any, matched.
        valid |= hmac.compare_digest(expected, given)
    return valid


class Intake:
    """WSGI middleware: answers `POST <webhook_path>` itself, hands every other request on."""

    def __init__(self, runtime, app: Callable, triage: Callable[[str, str | None, dict], int | None]):
        """`triage(event, action, payload)`: the priority of the job a delivery needs, or None if no
        handler would act on it (the handler registry's `bot.events.triage`, passed in: the intake
        imports no handler)."""
        self.runtime = runtime
        self.app = app
        self.triage = triage
        self.path = runtime.settings.webhook_path
        self.secrets = runtime.settings.webhook_secrets
        self.outbox = Outbox(db.make_engine(runtime.settings.database_url, pre_ping=False))

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        status, body = self.receive(environ)
        metrics.ACKS.labels(status.split(" ", 1)[0]).inc()
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def receive(self, environ) -> tuple[str, dict]:
        """Decide the answer to one delivery; stores it when the answer is 202."""
        if environ.get("REQUEST_METHOD") != "POST":
            return "405 Method Not Allowed", {"error": "webhooks are POSTed"}
        if not self.secrets:
            return "503 Service Unavailable", {"error": "setup mode: WEBHOOK_SECRET is not configured"}
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if length < 0:
            return "411 Length Required", {"error": "Content-Length is required"}
        if length > MAX_BODY:
            return "413 Content Too Large", {"error": "GitHub payloads are at most 25 MB"}
        raw = environ["wsgi.input"].read(length)
        if not verify_signature(raw, environ.get("HTTP_X_HUB_SIGNATURE_256"), self.secrets):
            log.warning("rejected delivery %r: signature missing or wrong", environ.get("HTTP_X_GITHUB_DELIVERY", "")[:64])
            return "401 Unauthorized", {"error": "X-Hub-Signature-256 is missing or does not match"}

        event = environ.get("HTTP_X_GITHUB_EVENT", "")
        guid = environ.get("HTTP_X_GITHUB_DELIVERY", "")
        if not _made_of(event, _NAME) or not _made_of(guid, _GUID):
            return "400 Bad Request", {"error": "X-GitHub-Event and X-GitHub-Delivery are required: an event "
                                                "name and a delivery id of at most 64 visible ASCII characters"}
        content_type = environ.get("CONTENT_TYPE", "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            return "415 Unsupported Media Type", {"error": "set the webhook's content type to application/json"}
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            return "400 Bad Request", {"error": "the body is not JSON"}
        if not isinstance(payload, dict):
            return "400 Bad Request", {"error": "the body is not a JSON object"}
        if event == "ping":
            return "200 OK", {"msg": "pong"}

        action = payload.get("action")
        if action is not None and not (isinstance(action, str) and _made_of(action, _NAME)):
            return "400 Bad Request", {"error": "the payload's action is not an action name"}
        installation = payload.get("installation")
        installation_id = installation.get("id") if isinstance(installation, dict) else None
        if installation_id is not None and not (type(installation_id) is int and 0 < installation_id <= MAX_ID):
            return "400 Bad Request", {"error": "the payload's installation.id is not a GitHub id"}
        priority = self.triage(event, action, payload)
        try:
            stored = self.outbox.store(guid, event, action, installation_id, raw, job_priority=priority)
        except Unavailable as exc:
            log.error("could not store delivery %s: %s", guid, exc)
            return "503 Service Unavailable", {"error": "the database is unavailable; GitHub can redeliver"}
        if stored and priority is not None:
            self.runtime.queue.wake()
        # One line per delivery at the default level, what an operator greps first; its cost (the
        # formatter redacts every line) is in `make bench`'s throughput figures, which run at INFO.
        log.info("delivery %s (%s%s%s): %s", guid, event, f".{action}" if action else "", _repository_of(payload),
                 "duplicate" if not stored else "queued" if priority is not None else "ignored: no handler wants it")
        return "202 Accepted", {"delivery": guid, "duplicate": not stored}
