"""Webhook event handlers: a registry keyed by `event` and `event.action`, and their context.

Modules register where they live, as Probot's `app.on("issue_comment.created", …)` does:

    @on("installation.created", "installation.unsuspend")
    def sync_installation(ctx: Context) -> None: ...

`bot/handlers.py` imports the modules whose handlers exist. The stored delivery is processed by
the `delivery` job below: it decodes the body and calls every handler registered for
`event` and for `event.action`; an event nobody handles is marked `ignored`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select, update

from bot import log
from bot.db import deliveries, installations
from bot.errors import PermanentError
from bot.jobs import Job, handles

_registry: dict[str, list[Callable[["Context"], None]]] = {}


def on(*names: str):
    """Register a handler for events like "installation" or "installation.created"."""

    def register(function):
        for name in names:
            _registry.setdefault(name, []).append(function)
        return function

    return register


def handlers_for(event: str, action: str | None) -> list[Callable[["Context"], None]]:
    """Handlers of the whole event first, then of the action."""
    found = list(_registry.get(event, []))
    if action:
        found += _registry.get(f"{event}.{action}", [])
    return found


@dataclass
class Context:
    """One delivery as a handler sees it (Probot's `context`)."""

    event: str
    action: str | None
    payload: dict[str, Any]
    delivery_id: str
    runtime: Any
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("bot.events"))

    @property
    def installation_id(self) -> int | None:
        installation = self.payload.get("installation")
        return installation.get("id") if isinstance(installation, dict) else None

    @property
    def github(self):
        """A client authenticated as the installation the delivery came from."""
        if self.installation_id is None:
            raise PermanentError(f"{self.event} delivery has no installation")
        return self.runtime.github.installation(self.installation_id)

    def repo(self) -> tuple[str, str]:
        """(owner, name) of the delivery's repository."""
        owner, _, name = self.payload["repository"]["full_name"].partition("/")
        return owner, name


@handles("delivery")
def process_delivery(runtime, job: Job) -> None:
    """Run the handlers registered for a stored delivery."""
    with runtime.engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == job.delivery_id)).first()
    if row is None:
        return  # pruned by retention before it ran; nothing to do
    with log.context(delivery_id=row.guid, event=row.event, installation_id=row.installation_id):
        functions = handlers_for(row.event, row.action)
        if row.event not in ("installation", "installation_repositories") and _suspended(runtime, row.installation_id):
            functions = []
        if functions:
            ctx = Context(event=row.event, action=row.action, payload=_payload(row.body), delivery_id=row.guid,
                          runtime=runtime)
            for function in functions:
                function(ctx)
        outcome = "done" if functions else "ignored"
        with runtime.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row.id)
                         .values(outcome=outcome, processed_at=time.time()))


def _suspended(runtime, installation_id: int | None) -> bool:
    if installation_id is None:
        return False
    with runtime.engine.connect() as conn:
        return bool(conn.execute(select(installations.c.suspended)
                                 .where(installations.c.id == installation_id)).scalar_one_or_none())


def _payload(body: bytes) -> dict[str, Any]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise PermanentError("delivery body is not a JSON object")
    return payload
