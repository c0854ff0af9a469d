"""Real webhook payloads (pinned @octokit/webhooks-examples), signed and sent as GitHub does."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import requests

from . import APP_ID
from .objects import node_id

EXAMPLES_FILE = (Path(__file__).resolve().parents[1]
                 / "github-spec/node_modules/@octokit/webhooks-examples/api.github.com/index.json")
HOOK_ID = 424242


@functools.cache
def _examples() -> dict[str, list[dict]]:
    return {e["name"]: e["examples"] for e in json.loads(EXAMPLES_FILE.read_bytes())}


def example(event: str, action: str | None = None, *, index: int = 0) -> dict:
    """A deep copy of GitHub's `index`-th example `event` payload (with this `action`, if given)."""
    if event not in _examples():
        raise KeyError(f"no webhook examples for {event!r}; known: {sorted(_examples())}")
    found = [p for p in _examples()[event] if action is None or p.get("action") == action]
    if index >= len(found):
        actions = sorted({str(p.get("action")) for p in _examples()[event]})
        raise KeyError(f"{event} has {len(found)} example(s) with action {action!r} "
                       f"(actions: {actions}); asked for index {index}")
    return copy.deepcopy(found[index])


def with_installation(payload: dict, installation_id: int) -> dict:
    """The payload as a GitHub App receives it: naming the installation it is for.

    `installation` events already carry the whole installation; only its id changes there.
    """
    installation = payload.setdefault("installation", {})
    installation.update(id=installation_id,
                        node_id=node_id("IntegrationInstallation", installation_id))
    return payload


def sign(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value: HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event: str, body: bytes, secret: str, *, delivery: str | None = None) -> dict:
    """The headers GitHub sends with a delivery to a GitHub App's webhook URL."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/4f2b7c1",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": str(HOOK_ID),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(APP_ID),
        "X-Hub-Signature-256": sign(body, secret),
    }


def deliver(url: str, event: str, payload: dict, secret: str, *,
            delivery: str | None = None) -> requests.Response:
    """POST `payload` to the webhook `url`, signed with `secret`, as GitHub delivers it."""
    body = json.dumps(payload).encode()
    return requests.post(url, data=body, headers=headers(event, body, secret, delivery=delivery),
                         timeout=10)
