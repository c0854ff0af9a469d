"""How the fake answers one request as GitHub does: in GitHub's order, problems recorded, faults,
routing, credentials, the rate limit, what the token reaches and may do, the body; then the route's
handler, a conditional GET's 304, and GitHub's headers on every answer."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
import struct
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from bot.github import permissions
from tests import app_manifest

from . import auth
from .openapi import API_VERSION, spec
from .wire import Recorded, Response, error

RATE_LIMIT = 5000
RESET = Response(0)  # a fault's answer meaning: close the connection without answering
# What each installation-token route needs, from GitHub's documentation (see bot/github/permissions.py).
REQUIRED = {(method, template): (needs, doc) for method, template, needs, doc in permissions.ROUTES}


@dataclass
class Route:
    """A registered handler for one spec operation, and the credentials it takes."""

    method: str
    template: str
    handler: Callable[[Recorded, dict], Any]
    auth: str  # "jwt", "token" (an installation's, or a user's: users.py) or "user"


class Answering:
    """FakeGitHub's serving half: its state (routes, tokens, installations, the rate limit) is the fake's."""

    def _serve(self, handler: BaseHTTPRequestHandler, host: str) -> None:
        """Record one request, work out the answer, and send it (or reset the connection)."""
        split = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        req = Recorded(method=handler.command, path=split.path,
                       query=parse_qs(split.query, keep_blank_values=True),
                       headers=CaseInsensitiveDict(handler.headers.items()),
                       body=handler.rfile.read(length) if length else b"", host=host)
        with self._lock:
            self.requests.append(req)
        answer = {"api": self._answer_api, "blob": self._answer_blob, "web": self.signin.answer}[host]
        response = answer(req)
        if response is RESET:
            _reset(handler)
            return
        req.status = response.status
        self._send(handler, req, response)

    def _answer_api(self, req: Recorded) -> Response:
        """In GitHub's order: record problems, faults, routing, auth, rate limit, body, handler."""
        self._problem(req, *spec().validate_request(req.method, req.path, req.query,
                                                    req.headers, req.body))
        found = spec().match(req.method, req.path)
        req.template = found[0].template if found else None
        authorization = req.headers.get("authorization")
        req.auth_kind, scheme, credential = auth.split_authorization(authorization)
        if credential in self.users.access:
            req.auth_kind = "user"
        token = self.token_of(req)
        req.installation_id = token.installation_id if token else None

        faulted = self._fault(req)
        if faulted:
            return faulted
        if not found:
            return error(404, "Not Found")
        op, raw_params = found
        route = self.routes.get((req.method, op.template))
        if route is None:
            self._problem(req, f"the fake has no handler for {op.method} {op.template}; "
                               "register one with @fake.route")
            return error(404, "Not Found")
        refusal = self._authenticate(req, route, scheme, credential)
        if refusal:
            return refusal
        if self._rate_limited():
            who = f" for installation ID {req.installation_id}" if req.installation_id else ""
            return error(403, f"API rate limit exceeded{who}.",
                         "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
        params = {name: op.parameters[name].coerce(value) if name in op.parameters else value
                  for name, value in raw_params.items()}
        if req.auth_kind == "user" and route.auth == "token":
            token = self.users.as_installation(credential, params)
            if token is None:
                return error(404, "Not Found")  # the person and the App share no such repository
            req.installation_id = token.installation_id
        if token and "owner" in params and "repo" in params and not self._reaches(
                token, f"{params['owner']}/{params['repo']}"):
            return error(404, "Not Found")  # GitHub hides what a token cannot see
        if route.auth == "token":
            refusal = self._unpermitted(req, token, op.template)
            if refusal:
                return refusal
        invalid_body = op.validate_body(req.body)
        if invalid_body:  # routes may trust their bodies: GitHub refuses these before acting
            return error(422, "Invalid request.\n\n" + "\n".join(invalid_body))

        response = _as_response(route.handler(req, params))
        self._problem(req, *(f"the fake's answer is not GitHub-shaped: {p}" for p in
                             spec().validate_response(req.method, req.path, response.status,
                                                      response.body)))
        return _conditional(req, response)

    def _authenticate(self, req: Recorded, route: Route, scheme: str | None,
                      credential: str | None) -> Response | None:
        """GitHub's 401 for a request without valid credentials for this route (403 for the wrong
        kind of token), else None.

        A refusal is a problem only when the bot is at fault: credentials that a true clock
        would also refuse, not ones that only the test's `clock_offset` made stale (or that the
        test revoked).
        """
        refusal = None
        if route.auth == "none":  # a route that takes no credentials (a manifest's conversion)
            return None
        if route.auth == "user" or (req.auth_kind == "user" and route.auth == "token"):
            refusal, bots_fault = self.users.refusal(route, req.auth_kind, scheme, credential)
            message = refusal.body["message"] if refusal else None
        elif route.auth == "jwt":
            if req.auth_kind != "jwt":
                message, bots_fault = auth.UNDECODABLE, True
            else:
                issuers = {str(self.app_id), self.app["client_id"]}
                message = auth.jwt_refusal(credential, self.public_key, issuers, self.now())
                bots_fault = auth.jwt_refusal(credential, self.public_key, issuers,
                                              time.time()) is not None
        else:
            token = self.tokens.get(credential or "")
            if credential is None:
                message, bots_fault = auth.REQUIRES_AUTHENTICATION, True
            elif token is None or scheme not in ("token", "bearer"):
                message, bots_fault = auth.BAD_CREDENTIALS, True
            elif self.now() >= token.expires_at:
                message, bots_fault = auth.BAD_CREDENTIALS, time.time() >= token.real_expires_at
            else:
                message = None
        if message is None:
            return None
        if bots_fault and not self._expected_auth_failures:
            self._problem(req, f"{refusal.status if refusal else 401} {message}")
        return refusal or error(401, message)

    def _unpermitted(self, req: Recorded, token: auth.Token, template: str) -> Response | None:
        """GitHub's 403 when the token's permissions cover none of the route's permission sets.

        A token holds what it was issued with, and never more than its installation has now.
        """
        if (req.method, template) not in REQUIRED:
            self._problem(req, f"no documented permission for {req.method} {template}; add it to "
                               "bot.github.permissions.ROUTES from GitHub's documentation")
            return None
        needs, doc = REQUIRED[(req.method, template)]
        current = self.installations[token.installation_id]["permissions"]
        granted = {name: level for name, level in token.permissions.items()
                   if app_manifest.covers(current, (name, level))}
        if not needs or any(app_manifest.covers(granted, need) for need in needs):
            return None
        return error(403, permissions.NOT_ACCESSIBLE, doc)

    def _reaches(self, token: auth.Token, full_name: str) -> bool:
        names = token.repositories or self.installation_repositories.get(token.installation_id, [])
        return full_name.lower() in {n.lower() for n in names}

    def _answer_blob(self, req: Recorded) -> Response:
        """Serve a registered blob; credentials must never arrive here."""
        if "authorization" in req.headers:
            self._problem(req, "an Authorization header reached the blob host; a client must "
                               "not forward GitHub credentials to a redirect target")
        faulted = self._fault(req)
        if faulted:
            return faulted
        with self._lock:
            blob = self._blobs.get(req.path)
            if blob is None or (blob.once and blob.served):
                return Response(404, b"The specified blob does not exist.",
                                {"content-type": "application/xml"})
            blob.served += 1
        return Response(200, blob.data, {"content-type": blob.content_type})

    def _send(self, handler: BaseHTTPRequestHandler, req: Recorded, response: Response) -> None:
        body = _encode(response.body)
        headers = self._github_headers(counted=response.status != 304) if req.host == "api" else {}
        headers.update({k.lower(): v for k, v in response.headers.items()})
        try:
            handler.send_response_only(response.status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            handler.close_connection = True  # the client gave up (its read timeout fired)

    def _rate_limited(self) -> bool:
        """Whether the primary limit is exhausted; a new window opens at `rate_limit_reset`."""
        with self._lock:
            if self.now() >= self.rate_limit_reset:
                self.rate_limit_remaining = RATE_LIMIT
                self.rate_limit_reset = int(self.now()) + 3600
            return self.rate_limit_remaining <= 0

    def _github_headers(self, *, counted: bool) -> dict[str, str]:
        """Headers GitHub puts on every answer; 304s don't count against the rate limit."""
        with self._lock:
            if counted:
                self.rate_limit_remaining = max(self.rate_limit_remaining - 1, 0)
            remaining = self.rate_limit_remaining
        return {
            "content-type": "application/json; charset=utf-8",
            "date": formatdate(self.now(), usegmt=True),
            "x-github-api-version-selected": API_VERSION,
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": ":".join(secrets.token_hex(n).upper() for n in (2, 2, 3, 3, 4)),
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(self.rate_limit_reset),
            "x-ratelimit-used": str(RATE_LIMIT - remaining),
            "x-ratelimit-resource": "core",
        }


def handler_class(fake: Answering, host: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections to GitHub

        def do_GET(self):
            fake._serve(self, host)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def log_message(self, format, *args):
            pass  # `fake.requests` is the log

    return Handler


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close with an RST (SO_LINGER 0), so the client sees 'connection reset by peer'."""
    handler.close_connection = True
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def _as_response(answer: Any) -> Response:
    if isinstance(answer, Response):
        return answer
    status, body, *headers = answer
    return Response(status, body, dict(headers[0]) if headers else {})


def _conditional(req: Recorded, response: Response) -> Response:
    """Add an ETag to a GET's 200, and answer 304 when If-None-Match already has it."""
    if req.method != "GET" or response.status != 200:
        return response
    etag = f'W/"{hashlib.sha256(_encode(response.body)).hexdigest()}"'
    response.headers["etag"] = etag
    wanted = {t.strip().removeprefix("W/") for t in req.headers.get("if-none-match", "").split(",")}
    if etag.removeprefix("W/") in wanted or "*" in wanted:
        return Response(304, None, {"etag": etag})
    return response


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()
