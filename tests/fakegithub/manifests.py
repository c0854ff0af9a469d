"""Registering a GitHub App from a manifest, as GitHub documents it ("Registering a GitHub App from a
manifest"): the web host takes the manifest in a form POSTed to `/settings/apps/new` (or an
organisation's `/organizations/{org}/settings/apps/new`) with a `state` in the query, and, the person
having confirmed, redirects to the manifest's `redirect_url` with a one-time `code` and the `state`;
`POST /app-manifests/{code}/conversions` (no credentials) then answers the new App's id, key and secrets.

The App registered becomes the fake's App: its JWTs, its OAuth client, its `GET /app`.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import objects
from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .server import FakeGitHub

CODE_LIFETIME = 3600  # GitHub: "the code ... expires after one hour"


@dataclass
class Pending:
    """A manifest confirmed on the web host, waiting for its conversion."""

    manifest: dict
    owner: str  # the person's login, or the organisation's
    owner_type: str  # User | Organization
    expires_at: float


def register(fake: FakeGitHub) -> None:
    """The conversion route; `answer` serves the web host's part."""
    fake.manifest_codes = {}

    @fake.route("POST", "/app-manifests/{code}/conversions", auth="none")
    def convert(req: Recorded, params: dict):
        with fake._lock:
            pending = fake.manifest_codes.pop(params["code"], None)
        if pending is None or time.time() > pending.expires_at:
            return error(404, "Not Found")
        return 201, _become(fake, pending)


def answer(fake: FakeGitHub, req: Recorded) -> Response | None:
    """The web host's manifest form, or None when the request is not one."""
    parts = req.path.strip("/").split("/")
    if req.method != "POST" or parts[-3:] != ["settings", "apps", "new"] or len(parts) not in (3, 5):
        return None
    organisation = parts[1] if len(parts) == 5 and parts[0] == "organizations" else None
    if len(parts) == 5 and organisation is None:
        return None
    form = parse_qs(req.body.decode("utf-8", "replace"))
    try:
        manifest = json.loads(form.get("manifest", [""])[-1])
    except ValueError:
        return Response(422, "The manifest is not JSON.", {"content-type": "text/plain"})
    if not isinstance(manifest, dict) or not manifest.get("url") or not (manifest.get("hook_attributes") or {}).get("url"):
        return Response(422, "A manifest needs url and hook_attributes.url.", {"content-type": "text/plain"})
    code = secrets.token_hex(10)
    person = fake.signin.signed_in or "monalisa"
    with fake._lock:
        fake.manifest_codes[code] = Pending(manifest, organisation or person,
                                            "Organization" if organisation else "User", time.time() + CODE_LIFETIME)
    target = urlsplit(manifest.get("redirect_url") or manifest["url"])
    query = urlencode({"code": code, **({"state": req.query["state"][-1]} if "state" in req.query else {})})
    location = urlunsplit(target._replace(query=f"{target.query}&{query}" if target.query else query))
    return Response(302, None, {"location": location})


def _become(fake: FakeGitHub, pending: Pending) -> dict:
    """Make the manifest's App the fake's own, and answer its conversion as GitHub does."""
    manifest = pending.manifest
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    app_id = 900000 + secrets.randbelow(99999)
    name = str(manifest.get("name") or "session-bot")
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    owner = objects.account(pending.owner, fake.url, type=pending.owner_type)
    app = objects.app(app_id, owner, permissions=manifest.get("default_permissions") or {},
                      events=manifest.get("default_events") or [])
    app.update(name=name, slug=slug, html_url=f"https://github.com/apps/{slug}", external_url=manifest["url"])
    with fake._lock:
        fake.app_id, fake.public_key, fake.app = app_id, key.public_key(), app
        fake.client_id, fake.client_secret = app["client_id"], secrets.token_hex(20)
        fake.callback_url = (manifest.get("callback_urls") or [None])[0]
    answer = spec().example("integration-from-manifest")
    answer.update({k: app[k] for k in answer if k in app})
    answer.update(client_id=fake.client_id, client_secret=fake.client_secret, pem=pem,
                  webhook_secret=secrets.token_hex(20))
    return answer
