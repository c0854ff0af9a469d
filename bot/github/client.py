"""GitHub REST client: pooled session, App/installation auth, and the retry policy the job queue relies on."""

from __future__ import annotations

import http.cookiejar
import logging
import random
import tempfile
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterator, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from bot.github.auth import AppAuth, BearerAuth, InstallationTokens
from bot.github.errors import BlobMissing, error_for, http_date, message_of, never_sent, transient
from bot.patterns import linear

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
# Methods GitHub treats as idempotent: repeating one after an ambiguous failure is harmless.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
BACKOFF_CAP = 10.0
CHUNK_SIZE = 64 * 1024
# Failures of the connection rather than answers from GitHub (a body cut short is one too).
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_CLOCK_CLAIM = linear(r"\b(iat|exp)\b", ignore_case=True)

OnResponse = Callable[[str, int, "int | None"], None]


class ETagStore(Protocol):
    """Where conditional GETs keep the last ETag and body for each URL."""

    def get(self, key: str) -> tuple[str, Any] | None: ...

    def put(self, key: str, etag: str, body: Any) -> None: ...


class MemoryETagStore:
    """An in-process, thread-safe ETagStore (unbounded: fine for tests and a handful of URLs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, Any]] = {}

    def get(self, key: str) -> tuple[str, Any] | None:
        """The stored (etag, body) for `key`, or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, etag: str, body: Any) -> None:
        """Remember `body` and its `etag` for `key`."""
        with self._lock:
            self._items[key] = (etag, body)


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
    """One per process, shared by threads: a pooled requests.Session, the App auth and the token cache."""

    def __init__(self, base_url: str, auth: AppAuth, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 retries: int = 3, retry_base: float = 1.0, user_agent: str = "session-bot",
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 on_response: OnResponse | None = None, write_interval: float = 1.0, write_burst: int = 3,
                 ambiguous_wait: float = 10.0):
        """`on_response(method, status, x-ratelimit-remaining or None)` is called for every API answer.

        `write_interval`: the average least seconds between two content-changing requests of one
        installation, as GitHub's secondary-rate-limit guidance asks (one process paces its own
        requests), after a burst of `write_burst`: one command's reaction, action and reply go out
        at once (a `stop` must not wait seconds), a flood of them at one per interval.

        `ambiguous_wait`: after a write that may have taken effect (a timeout or a reset once it was
        sent), how long before anyone looks whether it did: GitHub ends any request it has been
        processing for 10 seconds, so by then it has landed or never will.
        """
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._timeout = (connect_timeout, read_timeout)
        self._retries, self._retry_base = retries, retry_base
        self._user_agent = user_agent
        self._sleep, self._clock = sleep, clock
        self._on_response = on_response
        self._tokens = InstallationTokens(self._fetch_token, auth.now)
        self._write_interval, self._write_burst = write_interval, write_burst
        self._ambiguous_wait = ambiguous_wait
        self._write_tokens: dict[int | None, tuple[float, float]] = {}  # installation → (tokens, when)
        self._pacing = threading.Lock()
        self._session = requests.Session()
        # An API client has no use for cookies, and a shared jar is shared mutable state between threads.
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        # Retries are ours (urllib3's default adapter does none); the pool holds a connection per thread.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def app(self) -> "Client":
        """A client authenticated as the App itself (JWT): /app, /app/installations/…"""
        return Client(self, None)

    def installation(self, installation_id: int) -> "Client":
        """A client authenticated as one installation; its token is fetched lazily and cached."""
        return Client(self, int(installation_id))

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    # -- internals shared by Client ---------------------------------------------------------------

    def _url(self, path: str) -> str:
        """An absolute URL under base_url; refuses any other host so credentials never leave GitHub."""
        if path.startswith(("http://", "https://")):
            if path != self.base_url and not path.startswith(self.base_url + "/"):
                raise ValueError(f"refusing to send GitHub credentials outside {self.base_url}")
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def _fetch_token(self, installation_id: int) -> tuple[str, float]:
        # Minting a token has no side effect anyone sees, so this POST may be retried like a GET.
        url = self._url(f"/app/installations/{installation_id}/access_tokens")
        data = self._call(None, "POST", url, retry_post=True).json()
        return data["token"], datetime.fromisoformat(data["expires_at"]).timestamp()

    def _backoff(self, attempt: int) -> None:
        # Full jitter: threads that failed together do not come back together.
        self._sleep(random.uniform(0, min(BACKOFF_CAP, self._retry_base * 2**attempt)))

    def _pace(self, installation_id: int | None) -> None:
        """A token bucket per installation: `write_burst` writes at once, then one per `write_interval`.
        Tokens go negative while writers queue, so each waits its own turn."""
        if self._write_interval <= 0:
            return
        with self._pacing:
            now = self._clock()
            tokens, then = self._write_tokens.get(installation_id, (float(self._write_burst), now))
            tokens = min(float(self._write_burst), tokens + (now - then) / self._write_interval) - 1
            self._write_tokens[installation_id] = (tokens, now)
        if tokens < 0:
            self._sleep(-tokens * self._write_interval)

    def _observe(self, method: str, resp: requests.Response) -> None:
        log.debug("GitHub %s %s -> %s", method, urlsplit(resp.url).path, resp.status_code)
        if self._on_response is None:
            return
        remaining = resp.headers.get("x-ratelimit-remaining")
        try:
            self._on_response(method, resp.status_code, int(remaining) if remaining is not None else None)
        except Exception:  # metrics must never break a GitHub call
            log.exception("on_response hook failed")

    def _call(self, installation_id: int | None, method: str, url: str, *, params: Any = None, json: Any = None,
              headers: dict[str, str] | None = None, stream: bool = False, allow_redirects: bool = True,
              retry_post: bool = False) -> requests.Response:
        """Send one logical request, applying the failure policy; returns any response below 400."""
        method = method.upper()
        repeatable = method in IDEMPOTENT or retry_post
        where = f"{method} {urlsplit(url).path}"
        all_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                       "User-Agent": self._user_agent, **(headers or {})}
        attempt, reauthenticated = 0, False
        if method in WRITES and not retry_post:
            self._pace(installation_id)
        while True:
            credential = self.auth.jwt() if installation_id is None else self._tokens.get(installation_id)
            failure, cause, maybe_sent = None, None, True
            try:
                resp = self._session.request(
                    method, url, params=params, json=json, headers=all_headers, auth=BearerAuth(credential),
                    timeout=self._timeout, stream=stream, allow_redirects=allow_redirects)
            except _NETWORK_ERRORS as exc:
                failure, cause, maybe_sent = f"{type(exc).__name__} on {where}", exc, not never_sent(exc)
            else:
                self._observe(method, resp)
                if resp.status_code >= 500:
                    resp.close()
                    failure = f"GitHub answered {resp.status_code} to {where}"
            if failure:
                if maybe_sent and not repeatable:
                    # GitHub has no idempotency keys: the caller must look before it repeats a POST.
                    raise transient(failure + "; it may have taken effect", ambiguous=True,
                                    not_before=self._clock() + self._ambiguous_wait) from cause
                if attempt >= self._retries:
                    raise transient(failure) from cause
                self._backoff(attempt)
                attempt += 1
                continue
            if (resp.status_code == 401 and not reauthenticated
                    and self._recover_401(installation_id, credential, resp)):
                reauthenticated = True  # once per call: a second 401 is GitHub meaning it
                resp.close()
                continue
            if resp.status_code >= 400:
                error = error_for(resp, where, self._clock())  # reads the body, so before close()
                resp.close()
                raise error
            return resp

    def _recover_401(self, installation_id: int | None, credential: str, resp: requests.Response) -> bool:
        """Repair the credential GitHub refused; True if one retry is worth it."""
        if installation_id is not None:
            # Revoked or expired early: the next _tokens.get() fetches a new one.
            self._tokens.invalidate(installation_id, credential)
            return True
        server_now = http_date(resp.headers.get("Date"))
        if server_now is not None and _CLOCK_CLAIM.search(message_of(resp)):
            # "'Issued at' claim ('iat') must be …" / "'exp' is too far in the future": our clock is off.
            self.auth.note_server_time(server_now)
            return True
        return False


def _verb(method: str) -> Callable[..., Any]:
    def call(self: "Client", path: str, **kw: Any) -> Any:
        return _parse(self.request(method, path, **kw))

    call.__name__ = method.lower()
    call.__doc__ = f"{method} `path` (same keywords as request()); the parsed body, None for 204."
    return call


class Client:
    """Requests on behalf of the App (installation_id None) or one installation. Cheap; make freely."""

    def __init__(self, github: GitHub, installation_id: int | None):
        self._gh = github
        self.installation_id = installation_id

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                headers: dict[str, str] | None = None) -> requests.Response:
        """Send a request; `path` is "/repos/…" or an absolute URL under base_url (e.g. from a Link header).

        Raises TransientError (ambiguous=True for a POST that may have taken effect), RetryLater for
        rate limits, GitHubError for other 4xx.
        """
        return self._gh._call(self.installation_id, method, self._gh._url(path),
                              params=params, json=json, headers=headers)

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
        url = self._gh._url(path)
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

    def download(self, path: str, *, spool_max_memory: int = 1 << 20) -> tempfile.SpooledTemporaryFile:
        """GET a file GitHub serves by redirect (log archives); returns it rewound, spooled to disk when large.

        The redirect target gets no Authorization header, and each attempt asks GitHub for a fresh
        redirect because the signed Location expires within a minute.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=spool_max_memory)
        attempt = 0
        try:
            while True:
                try:
                    self._download_once(path, spool)
                    spool.seek(0)
                    return spool
                except _BlobFailure as exc:
                    if attempt >= self._gh._retries:
                        raise (BlobMissing(str(exc)) if exc.status == 404 else transient(str(exc))) from exc
                    self._gh._backoff(attempt)
                    attempt += 1
                    spool.seek(0)
                    spool.truncate()
        except BaseException:
            spool.close()
            raise

    def _download_once(self, path: str, spool: tempfile.SpooledTemporaryFile) -> None:
        gh = self._gh
        first = gh._call(self.installation_id, "GET", gh._url(path), stream=True, allow_redirects=False)
        target = urljoin(first.url, first.headers["Location"]) if first.is_redirect else None
        try:
            # A plain request for the target: the signed URL is the credential, ours must not travel.
            resp = first if target is None else gh._session.get(
                target, stream=True, timeout=gh._timeout, headers={"User-Agent": gh._user_agent})
            with resp:
                if resp.status_code != 200:
                    raise _BlobFailure(f"download of {path}: {urlsplit(resp.url).hostname} answered "
                                       f"{resp.status_code}", resp.status_code)
                for chunk in resp.iter_content(CHUNK_SIZE):
                    spool.write(chunk)
        except _NETWORK_ERRORS as exc:
            raise _BlobFailure(f"download of {path}: {type(exc).__name__}") from exc
        finally:
            first.close()
