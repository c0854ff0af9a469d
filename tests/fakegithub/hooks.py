"""The App's webhook: GitHub's log of delivery attempts, and redelivery on request.

`fake.send_webhook(url, secret, event, payload)` delivers as GitHub does (signed, GitHub's headers)
and logs the attempt with the status the receiver answered, or status_code 0 with "failed to
connect to host" / "timed out" when no answer came. `fake.record_delivery(guid, event, …)` logs an
attempt without sending anything, for tests that only need the log. The log is served newest
first with GitHub's cursor pagination (`cursor=` in the Link header's rel="next"), and forgets
attempts after GitHub's 3 days.

`POST /app/hook/deliveries/{id}/attempts` sends that attempt's payload again, to the App's webhook
URL (`fake.webhook_url`, else where the attempt went), signed with `fake.webhook_secret` (else the
attempt's secret), and logs a new attempt of the same guid with `redelivery: true`. GitHub queues
the redelivery and answers 202 at once; the fake sends it before answering, so tests need not wait.
"""

from __future__ import annotations

import calendar
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from . import payloads
from .actions import iso
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

RETENTION = 3 * 86400  # GitHub keeps an App's delivery log this long
# `hook-delivery-item`: what the list shows of a `hook-delivery` (no url, request or response).
ITEM_FIELDS = ("id", "guid", "delivered_at", "redelivery", "duration", "status", "status_code", "event",
               "action", "installation_id", "repository_id", "throttled_at")


@dataclass
class Sent:
    """How an attempt can be sent again: its body bytes, target and secret."""

    body: bytes
    url: str | None
    secret: str | None


def register(fake: FakeGitHub) -> None:
    """Add the delivery log's routes and helpers to `fake`."""
    fake.webhook_url = None  # the App's webhook URL: where redeliveries go (None: where the first went)
    fake.webhook_secret = None  # the App's webhook secret now (None: the attempt's own)
    fake.webhook_timeout = 10.0  # GitHub gives up on a receiver after 10 s
    fake.hook_deliveries = []  # every attempt, oldest first, as `hook-delivery` objects
    sent: dict[int, Sent] = {}
    ids = itertools.count(70_000_000_001)

    def log_attempt(guid: str, event: str, payload: Any, *, status_code: int, status: str, redelivery: bool,
                    at: float, duration: float, url: str | None, request_headers: dict,
                    response_headers: dict | None, response_body: str | None) -> dict:
        body = payload if isinstance(payload, dict) else {}
        installation, repository = body.get("installation"), body.get("repository")
        attempt = {
            "id": next(ids), "guid": guid, "delivered_at": iso(at), "redelivery": redelivery,
            "duration": round(duration, 2), "status": status, "status_code": status_code, "event": event,
            "action": body.get("action") if isinstance(body.get("action"), str) else None,
            "installation_id": installation.get("id") if isinstance(installation, dict) else None,
            "repository_id": repository.get("id") if isinstance(repository, dict) else None,
            "throttled_at": None, "url": url or "",
            "request": {"headers": request_headers, "payload": body},
            "response": {"headers": response_headers, "payload": response_body},
        }
        with fake._lock:
            fake.hook_deliveries.append(attempt)
        return attempt

    def deliver(url: str | None, secret: str | None, event: str, body: bytes, guid: str, *,
                redelivery: bool) -> dict:
        headers = payloads.headers(event, body, secret or "", delivery=guid)
        started = time.monotonic()
        code, status, answer_headers, answer = 0, "failed to connect to host", None, None
        if url:
            try:
                resp = requests.post(url, data=body, headers=headers, timeout=fake.webhook_timeout,
                                     allow_redirects=False)
            except requests.Timeout:
                status = "timed out"
            except requests.ConnectionError:
                pass
            else:
                code, answer_headers, answer = resp.status_code, dict(resp.headers), resp.text
                status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
        attempt = log_attempt(guid, event, json.loads(body), status_code=code, status=status, redelivery=redelivery,
                              at=fake.now(), duration=time.monotonic() - started, url=url, request_headers=headers,
                              response_headers=answer_headers, response_body=answer)
        sent[attempt["id"]] = Sent(body, url, secret)
        return attempt

    def send_webhook(url: str | None, secret: str, event: str, payload: dict, *, guid: str | None = None) -> dict:
        """Deliver `payload` to `url` as GitHub does and log the attempt; returns it (`hook-delivery`)."""
        return deliver(url, secret, event, json.dumps(payload).encode(), guid or str(uuid.uuid4()),
                       redelivery=False)

    def record_delivery(guid: str, event: str, action: str | None = None, status_code: int = 202, *,
                        status: str | None = None, redelivery: bool = False, at: float | None = None,
                        payload: dict | None = None, installation_id: int | None = None,
                        repository_id: int | None = None, duration: float = 0.05) -> dict:
        """Log an attempt without sending it (`at`: when, on the fake's clock); returns it."""
        if status is None:
            status = "OK" if 200 <= status_code < 300 else (
                "timed out" if status_code == 0 else f"Invalid HTTP Response: {status_code}")
        body = dict(payload or {})
        if action is not None:
            body.setdefault("action", action)
        if installation_id is not None:
            body.setdefault("installation", {"id": installation_id})
        if repository_id is not None:
            body.setdefault("repository", {"id": repository_id})
        raw = json.dumps(body).encode()
        attempt = log_attempt(guid, event, body, status_code=status_code, status=status, redelivery=redelivery,
                              at=fake.now() if at is None else at, duration=duration, url=None,
                              request_headers=payloads.headers(event, raw, "", delivery=guid),
                              response_headers=None, response_body=None)
        sent[attempt["id"]] = Sent(raw, None, None)
        return attempt

    def attempts_of(guid: str) -> list[dict]:
        """The logged attempts of one event, oldest first."""
        with fake._lock:
            return [a for a in fake.hook_deliveries if a["guid"] == guid]

    fake.send_webhook = send_webhook
    fake.record_delivery = record_delivery
    fake.attempts_of = attempts_of

    def kept() -> list[dict]:
        """The attempts GitHub still has, newest first."""
        horizon = fake.now() - RETENTION
        with fake._lock:
            log = list(fake.hook_deliveries)
        return sorted((a for a in log if _seconds(a["delivered_at"]) >= horizon), key=lambda a: -a["id"])

    def find(delivery_id: int) -> dict | None:
        return next((a for a in kept() if a["id"] == delivery_id), None)

    @fake.route("GET", "/app/hook/deliveries")
    def list_deliveries(req: Recorded, params: dict):
        attempts = kept()
        wanted = req.query.get("status", [None])[-1]
        if wanted:  # as documented: success is 200–399, failure 400–599
            low, high = (200, 399) if wanted == "success" else (400, 599)
            attempts = [a for a in attempts if low <= a["status_code"] <= high]
        cursor = req.query.get("cursor", [None])[-1]
        if cursor:
            start = _cursor_id(cursor)
            if start is None:
                return error(400, "Bad request: invalid cursor")
            attempts = [a for a in attempts if a["id"] <= start]
        try:
            per_page = min(max(int(req.query.get("per_page", ["30"])[-1]), 1), 100)
        except ValueError:
            per_page = 30
        page, rest = attempts[:per_page], attempts[per_page:]
        headers = {}
        if rest:
            query = f"per_page={per_page}&cursor=v1_{rest[0]['id']}"
            if wanted:
                query += f"&status={wanted}"
            headers["link"] = f'<{fake.url}{req.path}?{query}>; rel="next"'
        return Response(200, [{k: a[k] for k in ITEM_FIELDS} for a in page], headers)

    @fake.route("GET", "/app/hook/deliveries/{delivery_id}")
    def get_delivery(req: Recorded, params: dict):
        attempt = find(params["delivery_id"])
        return (200, attempt) if attempt else error(404, "Not Found")

    @fake.route("POST", "/app/hook/deliveries/{delivery_id}/attempts")
    def redeliver(req: Recorded, params: dict):
        attempt = find(params["delivery_id"])
        if attempt is None:
            return error(404, "Not Found")
        original = sent[attempt["id"]]
        deliver(fake.webhook_url or original.url, fake.webhook_secret or original.secret, attempt["event"],
                original.body, attempt["guid"], redelivery=True)
        return Response(202, {})


def _cursor_id(cursor: str) -> int | None:
    prefix, _, number = cursor.partition("_")
    return int(number) if prefix == "v1" and number.isdigit() else None


def _seconds(text: str) -> float:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
