"""How every request reaches GitHub: one pooled session, the App's credentials, and the failure
policy the job queue relies on (retries with backoff, paced writes, ambiguous writes, a refused
credential repaired once). `bot/github/client.py` is what callers use on top of it."""

from __future__ import annotations

import http.cookiejar
import logging
import random
import threading
import time
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from bot.github.auth import AppAuth, BearerAuth, InstallationTokens
from bot.github.errors import error_for, http_date, message_of, never_sent, transient
from bot.patterns import linear

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
USER_AGENT = "session-bot"
# Methods GitHub treats as idempotent: repeating one after an ambiguous failure is harmless.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# One command's reaction, action and reply go out at once (a `stop` must not wait seconds); a
# flood of them at one per write interval.
WRITE_BURST = 3
BACKOFF_CAP = 10.0
# Failures of the connection rather than answers from GitHub (a body cut short is one too).
NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_CLOCK_CLAIM = linear(r"\b(iat|exp)\b", ignore_case=True)

OnResponse = Callable[[str, int, "int | None"], None]


class Transport:
    """One per process, shared by threads: a pooled requests.Session, the App auth and the token cache."""

    def __init__(self, base_url: str, auth: AppAuth, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 retries: int = 3, retry_base: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, on_response: OnResponse | None = None,
                 write_interval: float = 1.0, ambiguous_wait: float = 10.0):
        """`on_response(method, status, x-ratelimit-remaining or None)` is called for every API answer.

        `write_interval`: the average least seconds between two content-changing requests of one
        installation, as GitHub's secondary-rate-limit guidance asks (one process paces its own
        requests), after a burst of WRITE_BURST.

        `ambiguous_wait`: after a write that may have taken effect (a timeout or a reset once it was
        sent), how long before anyone looks whether it did: GitHub ends any request it has been
        processing for 10 seconds, so by then it has landed or never will.
        """
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = (connect_timeout, read_timeout)
        self.retries, self._retry_base = retries, retry_base
        self._sleep, self._clock = sleep, clock
        self._on_response = on_response
        self._watchers: list[Callable[[requests.Response], None]] = []
        self._tokens = InstallationTokens(self._fetch_token, auth.now)
        self._write_interval = write_interval
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

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def url(self, path: str) -> str:
        """An absolute URL under base_url; refuses any other host so credentials never leave GitHub."""
        if path.startswith(("http://", "https://")):
            if path != self.base_url and not path.startswith(self.base_url + "/"):
                raise ValueError(f"refusing to send GitHub credentials outside {self.base_url}")
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def get_unauthenticated(self, url: str) -> requests.Response:
        """A streamed GET with no credentials: for signed URLs GitHub redirects to (the URL is the credential)."""
        return self._session.get(url, stream=True, timeout=self.timeout, headers={"User-Agent": USER_AGENT})

    def backoff(self, attempt: int) -> None:
        """Sleep before retry number `attempt + 1`."""
        # Full jitter: threads that failed together do not come back together.
        self._sleep(random.uniform(0, min(BACKOFF_CAP, self._retry_base * 2**attempt)))

    def send(self, installation_id: int | None, method: str, url: str, *, params: Any = None, json: Any = None,
             headers: dict[str, str] | None = None, stream: bool = False, allow_redirects: bool = True,
             retry_post: bool = False, user_token: str | None = None) -> requests.Response:
        """Send one logical request, applying the failure policy; returns any response below 400.

        `user_token`: a person's user access token to send instead of the App's credentials (a 401
        is then final: only the person signing in again repairs it)."""
        method = method.upper()
        repeatable = method in IDEMPOTENT or retry_post
        where = f"{method} {urlsplit(url).path}"
        all_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                       "User-Agent": USER_AGENT, **(headers or {})}
        attempt, reauthenticated = 0, False
        if method in WRITES and not retry_post:
            self._pace(installation_id)
        while True:
            credential = user_token or (self.auth.jwt() if installation_id is None
                                        else self._tokens.get(installation_id))
            failure, cause, maybe_sent = None, None, True
            try:
                resp = self._session.request(
                    method, url, params=params, json=json, headers=all_headers, auth=BearerAuth(credential),
                    timeout=self.timeout, stream=stream, allow_redirects=allow_redirects)
            except NETWORK_ERRORS as exc:
                # The host first: an operator reading the log learns which address is unreachable.
                failure, cause, maybe_sent = (f"{urlsplit(url).netloc} could not be reached ({type(exc).__name__}) "
                                              f"on {where}", exc, not never_sent(exc))
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
                if attempt >= self.retries:
                    raise transient(failure) from cause
                self.backoff(attempt)
                attempt += 1
                continue
            if (resp.status_code == 401 and not reauthenticated and user_token is None
                    and self._recover_401(installation_id, credential, resp)):
                reauthenticated = True  # once per call: a second 401 is GitHub meaning it
                resp.close()
                continue
            if resp.status_code >= 400:
                error = error_for(resp, where, self._clock())  # reads the body, so before close()
                resp.close()
                raise error
            return resp

    def _fetch_token(self, installation_id: int) -> tuple[str, float]:
        # Minting a token has no side effect anyone sees, so this POST may be retried like a GET.
        url = self.url(f"/app/installations/{installation_id}/access_tokens")
        data = self.send(None, "POST", url, retry_post=True).json()
        return data["token"], datetime.fromisoformat(data["expires_at"]).timestamp()

    def _pace(self, installation_id: int | None) -> None:
        """A token bucket per installation: WRITE_BURST writes at once, then one per `write_interval`.
        Tokens go negative while writers queue, so each waits its own turn."""
        if self._write_interval <= 0:
            return
        with self._pacing:
            now = self._clock()
            tokens, then = self._write_tokens.get(installation_id, (float(WRITE_BURST), now))
            tokens = min(float(WRITE_BURST), tokens + (now - then) / self._write_interval) - 1
            self._write_tokens[installation_id] = (tokens, now)
        if tokens < 0:
            self._sleep(-tokens * self._write_interval)

    def watch(self, callback: Callable[[requests.Response], None]) -> None:
        """Also call `callback(response)` for every answer from the API (its `.request` is what was sent)."""
        self._watchers.append(callback)

    def _observe(self, method: str, resp: requests.Response) -> None:
        log.debug("GitHub %s %s -> %s", method, urlsplit(resp.url).path, resp.status_code)
        for watcher in self._watchers:
            watcher(resp)
        if self._on_response is None:
            return
        remaining = resp.headers.get("x-ratelimit-remaining")
        try:
            self._on_response(method, resp.status_code, int(remaining) if remaining is not None else None)
        except Exception:  # metrics must never break a GitHub call
            log.exception("on_response hook failed")

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
