"""The fake's web host (github.com, beside the API's api.github.com): a GitHub App's user
authorization by the OAuth web application flow, as GitHub documents it ("Generating a user access
token for a GitHub App", "Refreshing user access tokens", "Troubleshooting authorization request
errors", "Troubleshooting OAuth app access token request errors"). These endpoints are not in the
REST description.

`GET /login/oauth/authorize` approves at once for the person the fake's browser is signed in as
(`fake.sign_in_as(login)`) and redirects to `redirect_uri` with `code` and `state`; with nobody
signed in (or `login=` naming someone else) it shows a sign-in page (200) whose form signs in.
`POST /login/oauth/access_token` exchanges a code (single use, 10 minutes, PKCE S256 checked) or a
refresh token (`grant_type=refresh_token`, which rotates the pair) for tokens; errors are 200s with
`error`, `error_description` and `error_uri`. JSON when the client accepts it, else a form body.

Refusals are problems (the bot sent what GitHub refuses) unless the test expects them
(`fake.expect_auth_failures()`); a refresh token the test revoked, or a code or token that only
the fake's `clock_offset` expired, is not the bot's fault.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit, urlunsplit

from . import manifests, pull_pages
from .users import REVOKED
from .wire import Recorded, Response

if TYPE_CHECKING:
    from .server import FakeGitHub

CODE_LIFETIME = 600  # GitHub's codes expire after 10 minutes
_TOKEN_ERRORS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
_AUTHORIZE_ERRORS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
ERRORS = {  # error → (error_description, error_uri), in GitHub's words
    "incorrect_client_credentials": ("The client_id and/or client_secret passed are incorrect.",
                                     _TOKEN_ERRORS + "#incorrect-client-credentials"),
    "redirect_uri_mismatch": ("The redirect_uri MUST match the registered callback URL for this application.",
                              _AUTHORIZE_ERRORS + "#redirect-uri-mismatch2"),
    "bad_verification_code": ("The code passed is incorrect or expired.", _TOKEN_ERRORS + "#bad-verification-code"),
    "bad_refresh_token": ("The refresh token passed is incorrect or expired.",
                          "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/"
                          "generating-a-user-access-token-for-a-github-app#bad-refresh-token"),
    "unsupported_grant_type": ("The grant type is not supported.",
                               "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/"
                               "generating-a-user-access-token-for-a-github-app#unsupported-grant-type"),
}
_PAGE = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title} · GitHub</title></head>'
         '<body><main><h1>{title}</h1>{body}</main></body></html>\n')


@dataclass
class Code:
    """An authorization code: who approved, where it was sent, its PKCE challenge."""

    login: str
    redirect_uri: str
    challenge: str | None
    expires_at: float       # on the fake's clock
    real_expires_at: float  # on the true clock: a code exchanged after this is the bot's fault


class SignIn:
    """The web host's state and answers; reached as `fake.signin`."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.signed_in: str | None = None
        self.codes: dict[str, Code] = {}

    def sign_in_as(self, login: str | None) -> None:
        """The fake's browser is signed in as `login` (a user added with `add_user`); None signs out."""
        if login is not None:
            self.fake.users.user(login)
        self.signed_in = login

    def forget_codes(self, login: str) -> None:
        """Codes not yet exchanged stop working (the person revoked the App)."""
        with self.fake._lock:
            self.codes = {k: c for k, c in self.codes.items() if c.login.lower() != login.lower()}

    def answer(self, req: Recorded) -> Response:
        """Answer one request to the web host."""
        faulted = self.fake._fault(req)
        if faulted:
            return faulted
        if (req.method, req.path) == ("GET", "/login/oauth/authorize"):
            return self._authorize(req, {k: v[-1] for k, v in req.query.items()})
        if (req.method, req.path) == ("POST", "/login/oauth/access_token"):
            return self._access_token(req)
        if (req.method, req.path) == ("POST", "/session"):
            return self._session(req)
        if (pull_page := pull_pages.answer(self.fake, req)) is not None:  # `make demo`'s pull requests
            return pull_page
        if (registering := manifests.answer(self.fake, req)) is not None:  # an App from a manifest
            return registering
        return _page(404, "Not Found", "<p>This is not the web page you are looking for.</p>")

    # authorize

    def _authorize(self, req: Recorded, query: dict[str, str]) -> Response:
        fake = self.fake
        if query.get("client_id") != fake.client_id:
            self._refused(req, f"unknown client_id {query.get('client_id')!r}")
            return _page(404, "Not Found", "<p>No application has this client ID.</p>")
        redirect_uri = query.get("redirect_uri") or fake.callback_url
        if not redirect_uri or not self._registered(redirect_uri):
            self._refused(req, f"redirect_uri {redirect_uri!r} is not under the callback URL {fake.callback_url!r}")
            if fake.callback_url is None:
                return _page(200, "Redirect URI mismatch", "<p>The redirect_uri is not associated with this "
                                                          "application.</p>")
            return _redirect(fake.callback_url, _error_fields("redirect_uri_mismatch"), query.get("state"))
        challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
        if (challenge or method) and (method != "S256" or not challenge):
            self._refused(req, f"code_challenge_method {method!r} with code_challenge {challenge!r}: GitHub "
                               "accepts only S256, and both together")
            return _page(400, "Invalid request", "<p>Only the S256 code challenge method is accepted.</p>")
        wanted = query.get("login")
        if self.signed_in is None or (wanted and wanted.lower() != self.signed_in.lower()):
            query_string = urlencode(query)
            return _sign_in_page(req.path + ("?" + query_string if query_string else ""), wanted or "")
        code = secrets.token_hex(10)
        with fake._lock:
            self.codes[code] = Code(self.signed_in, redirect_uri, challenge, fake.now() + CODE_LIFETIME,
                                    time.time() + CODE_LIFETIME)
        return _redirect(redirect_uri, {"code": code}, query.get("state"))

    def _registered(self, redirect_uri: str) -> bool:
        """Under the callback URL (same origin, same or a deeper path, GitHub's subdirectory rule);
        with no callback URL set, any http://127.0.0.1 URL (a loopback redirect)."""
        wanted = urlsplit(redirect_uri)
        if self.fake.callback_url is None:
            return wanted.scheme == "http" and wanted.hostname == "127.0.0.1"
        callback = urlsplit(self.fake.callback_url)
        base = callback.path.rstrip("/")
        return ((wanted.scheme, wanted.netloc) == (callback.scheme, callback.netloc)
                and (wanted.path == callback.path or wanted.path.startswith(base + "/"))
                and wanted.query in ("", callback.query) and not wanted.fragment)

    def _session(self, req: Recorded) -> Response:
        """The sign-in form: a known login signs the fake's browser in (no password)."""
        form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        return_to = form.get("return_to", "")
        if not return_to.startswith("/login/oauth/authorize"):
            return_to = "/"
        login = form.get("login", "")
        if login.lower() not in self.fake.users.accounts:
            return _sign_in_page(return_to, login, "<p>Incorrect username or password.</p>")
        self.signed_in = self.fake.users.accounts[login.lower()]["login"]
        return Response(302, None, {"location": return_to})

    # access_token

    def _access_token(self, req: Recorded) -> Response:
        form = {k: v[-1] for k, v in req.query.items()}
        form.update({k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()})
        client_id, client_secret = _basic(req.headers.get("authorization"))
        client_id, client_secret = form.get("client_id", client_id), form.get("client_secret", client_secret)
        if (client_id, client_secret) != (self.fake.client_id, self.fake.client_secret):
            return self._token_error(req, "incorrect_client_credentials")
        grant_type = form.get("grant_type", "authorization_code")
        if grant_type == "refresh_token":
            pair = self.fake.users.rotate(form.get("refresh_token", ""))
            if pair is None:
                return self._token_error(req, "bad_refresh_token", self._bots_fault(form.get("refresh_token", "")))
        elif grant_type == "authorization_code":
            with self.fake._lock:
                code = self.codes.get(form.get("code", ""))
                if code is None or self.fake.now() >= code.expires_at:
                    return self._token_error(req, "bad_verification_code",
                                             code is None or time.time() >= code.real_expires_at)
                if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
                    return self._token_error(req, "redirect_uri_mismatch")
                del self.codes[form["code"]]  # single use, and a wrong verifier burns it too
            if code.challenge is not None and _s256(form.get("code_verifier", "")) != code.challenge:
                return self._token_error(req, "bad_verification_code")
            pair = self.fake.users.mint(code.login)
        else:
            return self._token_error(req, "unsupported_grant_type")
        access, refresh = pair
        return _fields(req, {"access_token": access.value, "expires_in": self.fake.user_token_lifetime,
                             "refresh_token": refresh.value,
                             "refresh_token_expires_in": self.fake.refresh_token_lifetime,
                             "scope": "", "token_type": "bearer"})

    def _bots_fault(self, refresh_value: str) -> bool:
        """A refresh token the test revoked, or one only the fake's clock expired, is not."""
        token = self.fake.users.refresh.get(refresh_value)
        if token is None:
            return True
        if token.dead:
            return token.dead != REVOKED
        return time.time() >= token.real_expires_at

    def _token_error(self, req: Recorded, name: str, bots_fault: bool = True) -> Response:
        if bots_fault:
            self._refused(req, name)
        return _fields(req, _error_fields(name))

    def _refused(self, req: Recorded, why: str) -> None:
        if not self.fake._expected_auth_failures:
            self.fake._problem(req, why)


def _error_fields(name: str) -> dict[str, str]:
    description, uri = ERRORS[name]
    return {"error": name, "error_description": description, "error_uri": uri}


def _fields(req: Recorded, fields: dict) -> Response:
    """The token endpoint's answer: JSON when the client accepts it, else a form body (GitHub's default)."""
    if "application/json" in req.headers.get("accept", ""):
        return Response(200, fields, {"content-type": "application/json; charset=utf-8"})
    return Response(200, urlencode(fields), {"content-type": "application/x-www-form-urlencoded; charset=utf-8"})


def _redirect(url: str, fields: dict[str, str], state: str | None) -> Response:
    """A 302 to `url` with `fields` (and `state`, when the client sent one) added to its query."""
    split = urlsplit(url)
    extra = urlencode({**fields, **({"state": state} if state is not None else {})})
    query = f"{split.query}&{extra}" if split.query else extra
    return Response(302, None, {"location": urlunsplit(split._replace(query=query))})


def _sign_in_page(return_to: str, login: str, note: str = "") -> Response:
    """GitHub's sign-in page, reduced to a login field: the form signs the fake's browser in."""
    form = ('{note}<form method="post" action="/session"><label>Username '
            '<input name="login" value="{login}" autocomplete="username"></label>'
            '<input type="hidden" name="return_to" value="{return_to}">'
            '<button type="submit">Sign in</button></form>')
    return _page(200, "Sign in to GitHub", form.format(note=note, login=html.escape(login),
                                                       return_to=html.escape(return_to)))


def _page(status: int, title: str, body: str) -> Response:
    return Response(status, _PAGE.format(title=html.escape(title), body=body),
                    {"content-type": "text/html; charset=utf-8"})


def _basic(header: str | None) -> tuple[str | None, str | None]:
    """Client credentials from HTTP Basic authentication (RFC 6749's client_secret_basic)."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except ValueError:
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)  # RFC 6749 2.3.1: form-encoded, then Basic


def _s256(verifier: str) -> str:
    """RFC 7636's S256 code challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def register(fake: FakeGitHub) -> None:
    """`fake.signin`, `fake.sign_in_as`, and the App's OAuth credentials: `fake.client_id`,
    `fake.client_secret`, `fake.callback_url` (None: any http://127.0.0.1 redirect_uri)."""
    fake.signin = SignIn(fake)
    fake.sign_in_as = fake.signin.sign_in_as
    fake.client_id = fake.app["client_id"]
    fake.client_secret = secrets.token_hex(20)
    fake.callback_url = None
