"""GitHub App user authorization: the OAuth web flow on GitHub's web host (GITHUB_URL), with Authlib.

The authorize and token endpoints are github.com's (or a GitHub Enterprise Server's own URL), not
the API host's. Authlib builds the authorize URL with a `state` and a PKCE S256 challenge, checks
the state the callback brings back, and exchanges the code with the verifier. GitHub refuses a
code or a refresh token with HTTP 200 and an `error` field; Authlib reads that as an error, and
here it is `OAuthRefused`. A GitHub that cannot be asked is `OAuthUnavailable`: the caller keeps
what it has (a stored refresh token stays good) and tries again later.

Neither the code exchange nor a refresh is repeated here: GitHub accepts a code once and rotates
the refresh token on use, so a request that may have landed cannot be sent again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

AUTHORIZE_PATH = "/login/oauth/authorize"
TOKEN_PATH = "/login/oauth/access_token"
VERIFIER_LENGTH = 64  # PKCE allows 43..128 characters; 64 of 62 symbols is ~380 bits


class OAuthRefused(Exception):
    """GitHub (or the callback) said no: a wrong state, a bad or used code, a revoked refresh token."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


class OAuthUnavailable(Exception):
    """GitHub's web host could not be asked, or answered something other than OAuth's JSON."""


@dataclass(frozen=True)
class UserToken:
    """A person's user access token and how to renew it; times are unix seconds, None: never expires."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    refresh_expires_at: float | None = None

    def __repr__(self) -> str:  # never print a token into a log or a traceback
        return f"UserToken(expires_at={self.expires_at}, refresh_expires_at={self.refresh_expires_at})"


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what its callback must match (kept server-side or signed)."""

    url: str
    state: str
    code_verifier: str


class WebFlow:
    """The App's OAuth client (GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET) on GitHub's web host."""

    def __init__(self, github_url: str, client_id: str, client_secret: str, *,
                 timeout: tuple[float, float] = (5.0, 30.0), clock: Callable[[], float] = time.time):
        base = github_url.rstrip("/")
        self.authorize_url, self.token_url = base + AUTHORIZE_PATH, base + TOKEN_PATH
        self._client_id, self._client_secret = client_id, client_secret
        self._timeout, self._clock = timeout, clock

    def authorize(self, redirect_uri: str) -> Authorization:
        """A new authorize URL with a fresh state and PKCE challenge."""
        verifier = generate_token(VERIFIER_LENGTH)
        with self._session(redirect_uri) as session:
            url, state = session.create_authorization_url(self.authorize_url, code_verifier=verifier)
        return Authorization(url, state, verifier)

    def exchange(self, callback_url: str, *, state: str, code_verifier: str, redirect_uri: str) -> UserToken:
        """The token for the callback's code, once its state is the one `authorize` gave."""
        query = parse_qs(urlsplit(callback_url).query)
        if "error" in query and "code" not in query:  # the person declined, or GitHub refused the request
            raise OAuthRefused(query["error"][0][:100], query.get("error_description", [""])[0][:300])
        with self._session(redirect_uri, state=state) as session:
            return self._token(lambda: session.fetch_token(
                self.token_url, authorization_response=callback_url, code_verifier=code_verifier))

    def refresh(self, refresh_token: str) -> UserToken:
        """A new token (and refresh token: GitHub rotates it) for a refresh token."""
        with self._session(None) as session:
            return self._token(lambda: session.refresh_token(self.token_url, refresh_token=refresh_token))

    def _session(self, redirect_uri: str | None, state: str | None = None) -> OAuth2Session:
        # GitHub takes the client's id and secret in the form body, as its documentation shows.
        session = OAuth2Session(self._client_id, self._client_secret, token_endpoint_auth_method="client_secret_post",
                                code_challenge_method="S256", redirect_uri=redirect_uri, state=state,
                                default_timeout=self._timeout)
        session.headers["User-Agent"] = "session-bot"
        return session

    def _token(self, ask: Callable[[], Any]) -> UserToken:
        now = self._clock()
        try:
            answer = ask()
        except AuthlibBaseError as exc:  # state mismatch, missing code, or GitHub's 200 with `error`
            raise OAuthRefused(str(exc.error), str(exc.description or "")[:300]) from None
        except (requests.RequestException, ValueError) as exc:  # unreachable, 5xx, not a JSON object
            raise OAuthUnavailable(f"GitHub's token endpoint: {type(exc).__name__}") from None
        if not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
            raise OAuthUnavailable("GitHub's token endpoint answered without an access token")
        return UserToken(answer["access_token"], answer.get("refresh_token") or None,
                         _after(now, answer.get("expires_in")), _after(now, answer.get("refresh_token_expires_in")))


def _after(now: float, seconds: Any) -> float | None:
    """`now` plus GitHub's `…_expires_in` (a number, or a number as text); None when absent or unreadable."""
    try:
        after = now + float(seconds) if seconds not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return after if after is None or math.isfinite(after) else None
