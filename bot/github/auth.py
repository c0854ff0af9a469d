"""GitHub App credentials: the App's JWT (with clock-skew correction) and the installation-token cache."""

from __future__ import annotations

import threading
import time
from typing import Callable

import jwt as pyjwt
import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

# GitHub rejects an `iat` in its future, so backdate it; `exp` may be at most 10 minutes after `iat`,
# and 9 minutes leaves a minute for clocks that disagree.
JWT_BACKDATE = 60
JWT_LIFETIME = 9 * 60
# Reuse a JWT until this close to its expiry, so one never expires in flight.
JWT_REUSE_MARGIN = 60
# Installation tokens last an hour; refresh this long before `expires_at`.
TOKEN_REFRESH_MARGIN = 5 * 60


def load_rsa_private_key(private_key_pem: str | bytes) -> RSAPrivateKey:
    """Parse a PEM RSA private key, or raise ValueError saying why (never echoing the key)."""
    data = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # TypeError means the key is encrypted; the message must not include the PEM itself.
        raise ValueError(
            f"GitHub App private key is not a usable unencrypted PEM private key ({type(exc).__name__})"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"GitHub App private key must be an RSA key, got {type(key).__name__}")
    return key


class AppAuth:
    """Signs the App's RS256 JWTs, reusing each one until shortly before it expires. Thread-safe."""

    def __init__(self, app_id: int, private_key_pem: str, *, clock: Callable[[], float] = time.time):
        # Loading the key costs ~36 ms, signing with a loaded key ~0.3 ms: load it exactly once.
        self._key = load_rsa_private_key(private_key_pem)
        self.app_id = int(app_id)
        self._clock = clock
        self._offset = 0.0  # GitHub's clock minus ours, learned from a rejected JWT
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_exp = 0.0

    def now(self) -> float:
        """The current time on GitHub's clock, as far as we know it."""
        return self._clock() + self._offset

    def jwt(self) -> str:
        """A JWT for App-level endpoints, cached until about a minute before it expires."""
        with self._lock:
            now = self.now()
            if self._token is None or now >= self._token_exp - JWT_REUSE_MARGIN:
                iat = int(now) - JWT_BACKDATE
                exp = iat + JWT_LIFETIME
                # `iss` as a string: PyJWT's own decoder (and some verifiers) insist on it.
                claims = {"iat": iat, "exp": exp, "iss": str(self.app_id)}
                self._token = pyjwt.encode(claims, self._key, algorithm="RS256")
                self._token_exp = exp
            return self._token

    def note_server_time(self, server_date: float) -> None:
        """Adopt GitHub's clock (its `Date` header, unix seconds) after it rejected our `iat`/`exp`.

        The cached JWT is dropped so the next call signs one that is valid on GitHub's clock.
        """
        with self._lock:
            self._offset = server_date - self._clock()
            self._token = None


class BearerAuth(requests.auth.AuthBase):
    """requests auth setting `Authorization: Bearer …`; being explicit also stops ~/.netrc overriding it."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class InstallationTokens:
    """Per-installation token cache: one fetch per installation even when many threads ask at once."""

    def __init__(self, fetch: Callable[[int], tuple[str, float]], now: Callable[[], float]):
        """`fetch(installation_id)` returns (token, expires_at unix seconds); `now` is GitHub's clock."""
        self._fetch = fetch
        self._now = now
        self._lock = threading.Lock()  # guards the two dicts, never held while fetching
        self._tokens: dict[int, tuple[str, float]] = {}
        self._fetch_locks: dict[int, threading.Lock] = {}

    def _fresh(self, installation_id: int) -> str | None:
        entry = self._tokens.get(installation_id)
        if entry is not None and self._now() < entry[1] - TOKEN_REFRESH_MARGIN:
            return entry[0]
        return None

    def get(self, installation_id: int) -> str:
        """A valid token for the installation, fetching one only when none is cached or it is near expiry."""
        token = self._fresh(installation_id)
        if token is not None:
            return token
        with self._lock:
            fetch_lock = self._fetch_locks.setdefault(installation_id, threading.Lock())
        # Other installations keep working while this one fetches; waiters here reuse the result.
        with fetch_lock:
            token = self._fresh(installation_id)
            if token is None:
                token, expires_at = self._fetch(installation_id)
                with self._lock:
                    self._tokens[installation_id] = (token, expires_at)
            return token

    def invalidate(self, installation_id: int, token: str) -> None:
        """Forget `token` after GitHub refused it (unless another thread already replaced it)."""
        with self._lock:
            entry = self._tokens.get(installation_id)
            if entry is not None and entry[0] == token:
                del self._tokens[installation_id]
