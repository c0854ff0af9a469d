"""FakeGitHub: GitHub's REST API on real sockets, every request checked against the OpenAPI spec."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import secrets
import socket
import struct
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from requests.structures import CaseInsensitiveDict

from bot.github import permissions

from . import actions, auth, comments, contents, control, hooks, logs, objects, routes
from .openapi import API_VERSION, spec
from .wire import Recorded, Response, error

RATE_LIMIT = 5000
_RESET = Response(0)  # a fault's answer meaning: close the connection without answering
DEFAULT_PERMISSIONS = permissions.default_permissions()  # config/app-manifest.yml, what the App asks for
DEFAULT_EVENTS = permissions.default_events()
# What each installation-token route needs, from GitHub's documentation (see bot/github/permissions.py).
REQUIRED = {(method, template): (needs, doc) for method, template, needs, doc in permissions.ROUTES}


@dataclass
class Route:
    """A registered handler for one spec operation, and the credentials it takes."""

    method: str
    template: str
    handler: Callable[[Recorded, dict], Any]
    auth: str  # "jwt" or "token"


@dataclass
class Fault:
    """A scripted failure for the next `times` requests matching `method` and `path_glob`."""

    method: str
    path_glob: str
    status: int
    times: int
    headers: dict
    body: Any
    mode: str
    delay: float


@dataclass
class Blob:
    """Bytes the blob host serves, like a pre-signed storage URL."""

    data: bytes
    content_type: str
    once: bool
    served: int = 0


class FakeGitHub:
    """GitHub's REST API for one GitHub App, plus a second host that serves redirect targets."""

    def __init__(self, app_id: int, public_key_pem: bytes):
        self.app_id = app_id
        self.public_key = serialization.load_pem_public_key(public_key_pem)
        self._api = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, "api"))
        self._blob = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, "blob"))
        for server in (self._api, self._blob):
            # A request sleeping in a "timeout" fault must not hold up stop().
            server.daemon_threads, server.block_on_close = True, False
        self.url = f"http://127.0.0.1:{self._api.server_address[1]}"
        # Another host name, so clients that follow redirects drop the Authorization header.
        self.blob_url = f"http://localhost:{self._blob.server_address[1]}"
        self.clock_offset = 0.0
        self.rate_limit_remaining = RATE_LIMIT
        self.rate_limit_reset = int(time.time()) + 3600
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Route] = {}
        self.installations: dict[int, dict] = {}
        self.installation_repositories: dict[int, list[str]] = {}  # installation → full names
        self.repositories: dict[str, dict] = {}  # lower-case full name → full repository
        self.tokens: dict[str, auth.Token] = {}
        self.app = objects.app(app_id, objects.account("session-bot-dev", self.url, type="User"),
                               permissions=DEFAULT_PERMISSIONS, events=DEFAULT_EVENTS)
        self._problems: list[str] = []
        self._faults: list[Fault] = []
        self._blobs: dict[str, Blob] = {}
        self._expected_auth_failures = 0
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        for module in (routes, actions, comments, contents, control, logs, hooks):  # one module of routes per feature
            module.register(self)

    # lifecycle

    def start(self) -> FakeGitHub:
        """Serve both hosts from background threads."""
        for server in (self._api, self._blob):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                      daemon=True, name=f"fake-github-{server.server_address[1]}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening sockets."""
        for server in (self._api, self._blob):
            if self._threads:
                server.shutdown()
            server.server_close()
        self._threads.clear()

    def now(self) -> float:
        """The fake's clock: true time plus `clock_offset`."""
        return time.time() + self.clock_offset

    # state

    def add_installation(self, installation_id: int, account: str, repos: list[str], *,
                         permissions: dict | None = None, suspended: bool = False) -> dict:
        """Install the app on `account` for `repos` ("owner/name"); returns the installation."""
        owner = objects.account(account, self.url)
        inst = objects.installation(installation_id, owner, self.app, self.url,
                                    permissions=permissions or DEFAULT_PERMISSIONS,
                                    suspended=suspended)
        with self._lock:
            for full_name in repos:
                login = full_name.split("/")[0]
                repo_owner = owner if login == account else objects.account(login, self.url)
                self.repositories.setdefault(
                    full_name.lower(), objects.full_repository(full_name, repo_owner, self.url))
            self.installations[installation_id] = inst
            self.installation_repositories[installation_id] = list(repos)
            self.app["installations_count"] = len(self.installations)
        return inst

    def issue_token(self, installation_id: int, *, repositories: list[str] | None = None,
                    permissions: dict | None = None) -> auth.Token:
        """Mint an installation token, as `POST …/access_tokens` does."""
        token = auth.Token(
            value=auth.new_token_value(), installation_id=installation_id,
            expires_at=int(self.now()) + auth.TOKEN_LIFETIME,
            real_expires_at=time.time() + auth.TOKEN_LIFETIME,
            permissions=dict(permissions or self.installations[installation_id]["permissions"]),
            repositories=repositories)
        with self._lock:
            self.tokens[token.value] = token
        return token

    def token_of(self, req: Recorded) -> auth.Token | None:
        """The installation token a request authenticated with, if any."""
        kind, _, credential = auth.split_authorization(req.headers.get("authorization"))
        return self.tokens.get(credential) if kind == "token" else None

    def token_repositories(self, token: auth.Token) -> list[dict]:
        """The repositories a token can reach, as `repository` objects."""
        names = token.repositories or self.installation_repositories[token.installation_id]
        full = [self.repositories[n.lower()] for n in names]
        return [objects.repository(r["full_name"], r["owner"], self.url, private=r["private"])
                for r in full]

    # recording

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Recorded requests, filtered by method and by a path glob (`*` also matches `/`)."""
        return [r for r in list(self.requests)
                if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))]

    def problems(self) -> list[str]:
        """Why GitHub would have refused (or the bot should not have sent) recorded requests."""
        with self._lock:
            return list(self._problems)

    def _problem(self, req: Recorded, *messages: str) -> None:
        with self._lock:
            self._problems += [f"{req.host} {req.method} {req.path}: {m}" for m in messages]

    @contextmanager
    def expect_auth_failures(self):
        """Inside the block, 401s are what the test provokes, so they are not problems."""
        with self._lock:
            self._expected_auth_failures += 1
        try:
            yield self
        finally:
            with self._lock:
                self._expected_auth_failures -= 1

    # faults

    def fail(self, method: str, path_glob: str, *, status: int = 500, times: int = 1,
             headers: dict | None = None, body: dict | str | None = None, mode: str = "status",
             delay: float = 0.0) -> None:
        """Answer the next `times` matching requests with a fault.

        mode "status": answer `status` (with `headers`/`body`); "reset": close the connection
        without answering; "timeout": sleep `delay` seconds, then answer normally.
        """
        if mode not in ("status", "reset", "timeout"):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._faults.append(Fault(method.upper(), path_glob, status, times, headers or {},
                                      body, mode, delay))

    def _fault(self, req: Recorded) -> Response | None:
        """The faulty answer to give `req` (`_RESET` to drop the connection), or None."""
        with self._lock:
            fault = next((f for f in self._faults if f.method == req.method
                          and fnmatch.fnmatchcase(req.path, f.path_glob)), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
        if fault.mode == "reset":
            return _RESET
        if fault.mode == "timeout":
            time.sleep(fault.delay)  # the client's read timeout fires; the work still happens
            return None
        body = fault.body
        if body is None:
            body = {"message": HTTPStatus(fault.status).phrase}
        return Response(fault.status, body, dict(fault.headers))

    # extension points for routes

    def route(self, method: str, template: str, *, auth: str | None = None):
        """Decorator registering `handler(req, params) -> Response | (status, body[, headers])`.

        The template must be a GitHub operation in the spec. `/app…` routes take an app JWT,
        all others an installation token, unless `auth` says otherwise.
        """
        method = method.upper()
        if not spec().has_route(method, template):
            raise ValueError(f"{method} {template} is not a GitHub REST operation")
        if auth is None:
            auth = "jwt" if template == "/app" or template.startswith("/app/") else "token"

        def register(handler):
            self.routes[(method, template)] = Route(method, template, handler, auth)
            return handler
        return register

    def paginate(self, req: Recorded, items: list) -> tuple[list, dict[str, str]]:
        """The page of `items` that `per_page` (default 30, max 100) and `page` ask for, and its
        RFC 5988 Link header (prev, next, last, first — GitHub's order) on the fake's host."""
        per_page = min(max(_int(req.query.get("per_page"), 30), 1), 100)
        page = max(_int(req.query.get("page"), 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)

        def link(n: int, rel: str) -> str:
            query = urlencode({**req.query, "page": [str(n)]}, doseq=True)
            return f'<{self.url}{req.path}?{query}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        headers = {"link": ", ".join(links)} if links else {}
        return items[(page - 1) * per_page: page * per_page], headers

    def blob(self, data: bytes, *, once: bool = False,
             content_type: str = "application/octet-stream") -> str:
        """Serve `data` on the blob host (once, or every time); returns its signed-looking URL."""
        path = f"/blobs/{uuid.uuid4().hex}"
        with self._lock:
            self._blobs[path] = Blob(data, content_type, once)
        signature = f"sv=2023-11-03&se=2099-01-01T00%3A00%3A00Z&sig={secrets.token_urlsafe(24)}"
        return f"{self.blob_url}{path}?{signature}"

    def redirect(self, data: bytes, *, once: bool = False,
                 content_type: str = "application/octet-stream") -> Response:
        """A 302 to `data` on the blob host, as GitHub answers log and artifact downloads."""
        location = self.blob(data, once=once, content_type=content_type)
        return Response(302, None, {"location": location})

    # serving

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
        response = self._answer_api(req) if host == "api" else self._answer_blob(req)
        if response is _RESET:
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
        """GitHub's 401 for a request without valid credentials for this route, else None.

        A refusal is a problem only when the bot is at fault: credentials that a true clock
        would also refuse, not ones that only the test's `clock_offset` made stale.
        """
        if route.auth == "jwt":
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
            self._problem(req, f"401 {message}")
        return error(401, message)

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
                   if permissions.covers(current, (name, level))}
        if not needs or any(permissions.covers(granted, need) for need in needs):
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


def _handler(fake: FakeGitHub, host: str) -> type[BaseHTTPRequestHandler]:
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


def _int(values: list[str] | None, default: int) -> int:
    try:
        return int(values[-1]) if values else default
    except ValueError:
        return default
