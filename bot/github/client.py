"""What callers use to talk to GitHub: one `GitHub` per process, a `Client` per installation.

A Client sends requests, follows pagination, makes conditional GETs against an ETagStore and
downloads the files GitHub serves by redirect. How a request travels (auth, retries, pacing) is
bot/github/transport.py.
"""

from __future__ import annotations

import tempfile
from typing import Any, Callable, Iterator, Protocol
from urllib.parse import urljoin, urlsplit

import requests

from bot.github.auth import AppAuth
from bot.github.errors import BlobMissing, transient
from bot.github.transport import NETWORK_ERRORS, Transport

CHUNK_SIZE = 64 * 1024
# A download larger than this goes to a temporary file rather than staying in memory.
SPOOL_MAX_MEMORY = 1 << 20


class ETagStore(Protocol):
    """Where conditional GETs keep the last ETag and body for each URL."""

    def get(self, key: str) -> tuple[str, Any] | None: ...

    def put(self, key: str, etag: str, body: Any) -> None: ...


class ScopedETags:
    """An ETagStore's entries kept under one scope (`user:<id>`): GitHub answers a person's token with
    that person's view of a URL, so one person's stored body must never answer another's 304."""

    def __init__(self, store: ETagStore, scope: str):
        self._store, self._prefix = store, f"{scope} "

    def get(self, key: str) -> tuple[str, Any] | None:
        """What the store keeps for `key` in this scope."""
        return self._store.get(self._prefix + key)

    def put(self, key: str, etag: str, body: Any) -> None:
        """Keep `body` and its `etag` for `key` in this scope."""
        self._store.put(self._prefix + key, etag, body)


class _BlobFailure(Exception):
    """The redirect target of a download failed; worth another try with a fresh redirect."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _parse(resp: requests.Response) -> Any:
    """The response body: JSON when GitHub sent JSON, None when empty, text otherwise (diffs, patches)."""
    if resp.status_code in (204, 304) or not resp.content:
        return None
    if "json" in resp.headers.get("Content-Type", ""):
        return resp.json()
    return resp.text


class GitHub:
    """One per process, shared by threads: the Transport (pooled session, App auth, token cache)
    and the Clients that use it."""

    def __init__(self, base_url: str, auth: AppAuth, **policy: Any):
        """`policy`: timeouts, retries, pacing and hooks, as bot.github.transport.Transport takes them."""
        self.auth = auth
        self.transport = Transport(base_url, auth, **policy)

    def app(self) -> "Client":
        """A client authenticated as the App itself (JWT): /app, /app/installations/…"""
        return Client(self.transport, None)

    def installation(self, installation_id: int) -> "Client":
        """A client authenticated as one installation; its token is fetched lazily and cached."""
        return Client(self.transport, int(installation_id))

    def user(self, user_token: str) -> "Client":
        """A client authenticated as a person, with their user access token (GitHub App user
        authorization): /user, /user/installations… It goes only to the API host, like every credential."""
        if not user_token:
            raise ValueError("a user client needs the person's token")  # never fall back to the App's JWT
        return Client(self.transport, None, user_token=user_token)

    def close(self) -> None:
        """Close pooled connections."""
        self.transport.close()


def _verb(method: str) -> Callable[..., Any]:
    def call(self: "Client", path: str, **kw: Any) -> Any:
        return _parse(self.request(method, path, **kw))

    call.__name__ = method.lower()
    call.__doc__ = f"{method} `path` (same keywords as request()); the parsed body, None for 204."
    return call


class Client:
    """Requests on behalf of the App (installation_id None), one installation, or a person (`user_token`).
    Cheap; make freely."""

    def __init__(self, transport: Transport, installation_id: int | None, *, user_token: str | None = None):
        self._transport = transport
        self.installation_id = installation_id
        self._user_token = user_token

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                headers: dict[str, str] | None = None) -> requests.Response:
        """Send a request; `path` is "/repos/…" or an absolute URL under base_url (e.g. from a Link header).

        Raises TransientError (ambiguous=True for a POST that may have taken effect), RetryLater for
        rate limits, GitHubError for other 4xx.
        """
        return self._transport.send(self.installation_id, method, self._transport.url(path),
                                    params=params, json=json, headers=headers, user_token=self._user_token)

    get = _verb("GET")
    post = _verb("POST")  # never repeated in-call once it may have been sent
    patch = _verb("PATCH")
    put = _verb("PUT")
    delete = _verb("DELETE")

    def paginate(self, path: str, *, params: Any = None, item_key: str | None = None) -> Iterator[dict]:
        """Yield every item of a list endpoint, following Link rel="next" (per_page=100 unless given).

        `item_key` names the list inside wrapped responses such as {"total_count": 3, "repositories": [...]}.
        """
        url: str | None = path
        query = {"per_page": 100, **(params or {})}
        while url:
            resp = self.request("GET", url, params=query)
            page = resp.json()
            items = page[item_key] if item_key else page
            if not isinstance(items, list):
                raise TypeError(f"{path} did not return a list; pass item_key for wrapped lists")
            yield from items
            url = resp.links.get("next", {}).get("url")
            query = None  # the next link already carries the query string

    def get_conditional(self, path: str, *, store: ETagStore, params: Any = None) -> tuple[Any, bool]:
        """GET with If-None-Match: (stored body, False) on 304, which costs no rate limit; (body, True) on 200."""
        url = self._transport.url(path)
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, sorted(params.items()) if isinstance(params, dict) else params)
        key = prepared.url
        cached = store.get(key)
        headers = {"If-None-Match": cached[0]} if cached else None
        resp = self.request("GET", url, params=params, headers=headers)
        if resp.status_code == 304 and cached:
            return cached[1], False
        body = _parse(resp)
        if resp.headers.get("ETag"):
            store.put(key, resp.headers["ETag"], body)
        return body, True

    def download(self, path: str) -> tempfile.SpooledTemporaryFile:
        """GET a file GitHub serves by redirect (log archives); returns it rewound, spooled to disk when large.

        The redirect target gets no Authorization header, and each attempt asks GitHub for a fresh
        redirect because the signed Location expires within a minute.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
        attempt = 0
        try:
            while True:
                try:
                    self._download_once(path, spool)
                    spool.seek(0)
                    return spool
                except _BlobFailure as exc:
                    if attempt >= self._transport.retries:
                        raise (BlobMissing(str(exc)) if exc.status == 404 else transient(str(exc))) from exc
                    self._transport.backoff(attempt)
                    attempt += 1
                    spool.seek(0)
                    spool.truncate()
        except BaseException:
            spool.close()
            raise

    def _download_once(self, path: str, spool: tempfile.SpooledTemporaryFile) -> None:
        transport = self._transport
        first = transport.send(self.installation_id, "GET", transport.url(path), stream=True, allow_redirects=False,
                               user_token=self._user_token)
        target = urljoin(first.url, first.headers["Location"]) if first.is_redirect else None
        try:
            # A plain request for the target: the signed URL is the credential, ours must not travel.
            resp = first if target is None else transport.get_unauthenticated(target)
            with resp:
                if resp.status_code != 200:
                    raise _BlobFailure(f"download of {path}: {urlsplit(resp.url).hostname} answered "
                                       f"{resp.status_code}", resp.status_code)
                for chunk in resp.iter_content(CHUNK_SIZE):
                    spool.write(chunk)
        except NETWORK_ERRORS as exc:
            raise _BlobFailure(f"download of {path}: {type(exc).__name__}") from exc
        finally:
            first.close()
