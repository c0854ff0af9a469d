"""FakeGitHub: GitHub's REST API on real sockets, every request checked against the OpenAPI spec."""

from __future__ import annotations

import fnmatch
import math
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization

from tests import app_manifest

from . import (actions, agent_tasks, auth, comments, contents, control, hooks, logs, manifests, objects, routes, run_jobs,
               signin, users)
from .answering import RATE_LIMIT, RESET, Answering, Route, handler_class
from .openapi import spec
from .wire import Recorded, Response

DEFAULT_PERMISSIONS = app_manifest.default_permissions()  # config/app-manifest.yml, what the App asks for
DEFAULT_EVENTS = app_manifest.default_events()


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


class FakeGitHub(Answering):
    """GitHub's REST API for one GitHub App, plus a second host that serves redirect targets and a
    third, the web host, for signing in (signin.py); how it answers a request is answering.py's."""

    def __init__(self, app_id: int, public_key_pem: bytes):
        self.app_id = app_id
        self.public_key = serialization.load_pem_public_key(public_key_pem)
        self._api = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(self, "api"))
        self._blob = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(self, "blob"))
        self._web = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(self, "web"))
        for server in (self._api, self._blob, self._web):
            # A request sleeping in a "timeout" fault must not hold up stop().
            server.daemon_threads, server.block_on_close = True, False
        self.url = f"http://127.0.0.1:{self._api.server_address[1]}"
        # Another host name, so clients that follow redirects drop the Authorization header.
        self.blob_url = f"http://localhost:{self._blob.server_address[1]}"
        self.web_url = f"http://127.0.0.1:{self._web.server_address[1]}"  # github.com's part: signing in
        # Where a comment made on the web host's pull-request pages is delivered (`make demo`; pull_pages.py).
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
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
        for module in (routes, actions, run_jobs, comments, contents, control, logs, hooks, users, signin, manifests,
                       agent_tasks):
            module.register(self)

    # lifecycle

    def start(self) -> FakeGitHub:
        """Serve every host from background threads."""
        for server in (self._api, self._blob, self._web):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                      daemon=True, name=f"fake-github-{server.server_address[1]}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening sockets."""
        for server in (self._api, self._blob, self._web):
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
        """The faulty answer to give `req` (`RESET` to drop the connection), or None."""
        with self._lock:
            fault = next((f for f in self._faults if f.method == req.method
                          and fnmatch.fnmatchcase(req.path, f.path_glob)), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
        if fault.mode == "reset":
            return RESET
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
        all others an installation token (or a user token, for what the person reaches: users.py),
        unless `auth` says otherwise ("user": a user token only).
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


def _int(values: list[str] | None, default: int) -> int:
    try:
        return int(values[-1]) if values else default
    except ValueError:
        return default
