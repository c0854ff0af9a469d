"""Webhook event handlers: a registry keyed by `event` and `event.action`, and their context.

Modules register where they live, as Probot's `app.on("issue_comment.created", …)` does:

    @on("installation.created", "installation.unsuspend")
    def sync_installation(ctx: Context) -> None: ...

`bot/handlers/` holds every handler module, in the order they run. The stored delivery is processed by
the `delivery` job below: it decodes the body and calls every handler registered for
`event` and for `event.action`; an event nobody handles is marked `ignored`.

Most of what GitHub sends an App needs nothing (a comment without a command, an event no handler
registered for). A handler may declare `wants=`, a cheap pure test of the payload, so that the intake
can see that no handler will act and store such a delivery as `ignored` with no job at all
(`triage`): deciding that is then part of the acknowledgement, not a queued job.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import exc as sql_errors, select, update

from bot import logging_config
from bot.db import deliveries, installations
from bot.errors import PermanentError
from bot.jobs import NORMAL, URGENT, Job, handles
from bot.shapes import check_shape

_registry: dict[str, list[Callable[["Context"], None]]] = {}

# What reading a payload without a field its handler needs, or with one of the wrong type, raises
# (in Python, or from the database refusing the value). Retrying cannot help: the stored body is
# the same on every attempt, so such a delivery fails permanently, naming the handler and the field.
MALFORMED = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError, sql_errors.DataError)


_shapes: dict[Callable, dict] = {}
_wants: dict[Callable, Callable[[dict], bool]] = {}
_urgent: set[Callable] = set()


def on(*names: str, shape: dict | None = None, wants: Callable[[dict], bool] | None = None, urgent: bool = False):
    """Register a handler for events like "installation" or "installation.created".

    `shape` declares the payload fields the handler reads (see `check_shape`); a delivery that
    does not fit fails permanently before any of its handlers runs, naming the field.
    `wants(payload)` says whether the handler may act on a delivery at all; it runs in the
    acknowledgement on an unchecked payload, so it must be cheap, linear in the payload, and free of
    I/O; when it is False for every handler, the delivery is stored as ignored and no job runs.
    `urgent`: a person waits for what the handler does (a command), so its delivery's job goes
    before those of deliveries that only keep the index up to date.
    """

    def register(function):
        for name in names:
            _registry.setdefault(name, []).append(function)
        if shape is not None:
            _shapes[function] = shape
        if wants is not None:
            _wants[function] = wants
        if urgent:
            _urgent.add(function)
        return function

    return register


def handlers_for(event: str, action: str | None) -> list[Callable[["Context"], None]]:
    """Handlers of the whole event first, then of the action."""
    found = list(_registry.get(event, []))
    if action:
        found += _registry.get(f"{event}.{action}", [])
    return found


def triage(event: str, action: str | None, payload: dict) -> int | None:
    """The priority of the job this delivery needs (`bot.jobs.NORMAL` or `URGENT`), or None when no
    registered handler would act on it: then it is stored as ignored, with no job."""
    priority = None
    for function in handlers_for(event, action):
        wants = _wants.get(function)
        try:
            wanted = wants is None or wants(payload)
        except Exception:  # noqa: BLE001 -- a payload the test cannot read: the job's shape check explains it
            wanted = True
        if wanted:
            priority = min(NORMAL if priority is None else priority, URGENT if function in _urgent else NORMAL)
    return priority


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
def process_delivery(runtime, job: Job) -> Callable[[Any, Job], None] | None:
    """Run the handlers registered for a stored delivery; its outcome is written as the job completes."""
    with runtime.engine.connect() as conn:
        row = conn.execute(select(deliveries, installations.c.suspended)
                           .outerjoin(installations, installations.c.id == deliveries.c.installation_id)
                           .where(deliveries.c.id == job.delivery_id)).first()
    if row is None:
        return None  # pruned by retention before it ran; nothing to do
    with logging_config.context(delivery_id=row.guid, event=row.event, installation_id=row.installation_id):
        functions = handlers_for(row.event, row.action)
        if row.event not in ("installation", "installation_repositories") and row.suspended:
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
    return functools.partial(_record_outcome, row.id, "done" if functions else "ignored")


def _record_outcome(delivery_id: int, outcome: str, conn, job: Job) -> None:
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id)
                 .values(outcome=outcome, processed_at=time.time()))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, sql_errors.DBAPIError):
        text = f"{type(exc).__name__}: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
    return text if len(text) <= 300 else text[:299] + "…"


def _payload(body: bytes) -> dict[str, Any]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise PermanentError("delivery body is not a JSON object")
    return payload
