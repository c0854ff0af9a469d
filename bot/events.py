"""Webhook event handlers: a registry keyed by `event` and `event.action`, and their context.

Modules register where they live, as Probot's `app.on("issue_comment.created", …)` does:

    @on("installation.created", "installation.unsuspend")
    def sync_installation(ctx: Context) -> None: ...

`bot/handlers/` holds every handler module, in the order they run. The stored delivery is processed by
the `delivery` job below: it decodes the body and calls every handler registered for
`event` and for `event.action`; an event nobody handles is marked `ignored`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import exc as sql_errors, select, update

from bot import logging_config
from bot.db import deliveries, installations
from bot.errors import PermanentError
from bot.jobs import Job, handles
from bot.shapes import check_shape

_registry: dict[str, list[Callable[["Context"], None]]] = {}

# What reading a payload without a field its handler needs, or with one of the wrong type, raises
# (in Python, or from the database refusing the value). Retrying cannot help: the stored body is
# the same on every attempt, so such a delivery fails permanently, naming the handler and the field.
MALFORMED = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError, sql_errors.DataError)


_shapes: dict[Callable, dict] = {}


def on(*names: str, shape: dict | None = None):
    """Register a handler for events like "installation" or "installation.created".

    `shape` declares the payload fields the handler reads (see `check_shape`); a delivery that
    does not fit fails permanently before any of its handlers runs, naming the field.
    """

    def register(function):
        for name in names:
            _registry.setdefault(name, []).append(function)
        if shape is not None:
            _shapes[function] = shape
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


def _delivery_failed(conn, job: Job) -> None:
    """A dead delivery job: the delivery's own record says so too (metrics, `flask deliveries`)."""
    if job.delivery_id is not None:
        conn.execute(update(deliveries).where(deliveries.c.id == job.delivery_id).values(outcome="failed"))


@handles("delivery", on_dead=_delivery_failed)
def process_delivery(runtime, job: Job) -> None:
    """Run the handlers registered for a stored delivery."""
    with runtime.engine.connect() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == job.delivery_id)).first()
    if row is None:
        return  # pruned by retention before it ran; nothing to do
    with logging_config.context(delivery_id=row.guid, event=row.event, installation_id=row.installation_id):
        functions = handlers_for(row.event, row.action)
        if row.event not in ("installation", "installation_repositories") and _suspended(runtime, row.installation_id):
            functions = []
        if functions:
            ctx = Context(event=row.event, action=row.action, payload=_payload(row.body), delivery_id=row.guid,
                          runtime=runtime)
            what = f"{row.event}.{row.action}" if row.action else row.event
            for function in functions:
                if function in _shapes:
                    try:
                        check_shape(ctx.payload, _shapes[function])
                    except PermanentError as exc:
                        raise PermanentError(f"malformed {what} delivery {row.guid}: {exc}") from None
            for function in functions:
                try:
                    function(ctx)
                except MALFORMED as exc:
                    raise PermanentError(f"malformed {what} delivery {row.guid}: {function.__module__}."
                                         f"{function.__name__} could not use it ({_describe(exc)})") from exc
        outcome = "done" if functions else "ignored"
        with runtime.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row.id)
                         .values(outcome=outcome, processed_at=time.time()))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, sql_errors.DBAPIError):
        text = f"{type(exc).__name__}: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
    return text if len(text) <= 300 else text[:299] + "…"


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
