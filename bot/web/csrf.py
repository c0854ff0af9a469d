"""CSRF protection: a request that changes something with the session cookie's authority must prove it
comes from one of our own pages.

Each browser session holds a random secret (in the signed cookie, beside the session id). Pages put
it in every form as `{{ csrf_token() }}` (field `csrf_token`); a script posting JSON with the
cookie sends it as the `X-CSRF-Token` header. Every POST, PUT, PATCH and DELETE that Flask routes
is checked before its view runs; a failure is 403 saying why. Exempt: a request that carries no
session cookie (it has no authority to borrow: its view answers 401 on its own) and the JSON API
with `Authorization: Bearer $ADMIN_TOKEN` (a browser never adds that header on its own). The
webhook intake never reaches Flask, so it is not affected. SameSite=Lax on the cookie is a second
guard, not the only one.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session
from werkzeug.exceptions import Forbidden

from bot.web.access import operator_bearer

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_INSTALLED = "session_bot.csrf"


class CsrfFailed(Forbidden):
    """403: the request came with the session cookie but without this session's CSRF token."""

    description = ("This request was refused: it did not come from one of this site's own pages (its "
                   "CSRF token is missing or does not match your session). Reload the page and try again.")


def csrf_token() -> str:
    """This browser session's CSRF token, created on first use ("" when no SECRET_KEY signs cookies)."""
    if not current_app.secret_key:
        return ""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def renew() -> None:
    """A new secret: at sign-in, so a token seen before it is worth nothing after."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def check() -> None:
    """Refuse an unsafe request that borrows the session cookie without this session's CSRF token."""
    if request.method not in UNSAFE or not current_app.secret_key:
        return
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies or operator_bearer():
        return
    expected = session.get(SESSION_KEY)
    given = request.headers.get(HEADER) or (request.form.get(FIELD) if request.mimetype != "application/json" else None)
    if not expected or not given or not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise CsrfFailed()


def install(app: Flask) -> None:
    """Check every unsafe request before its view, and give templates `csrf_token()`. Once per app."""
    if app.extensions.get(_INSTALLED):
        return
    app.extensions[_INSTALLED] = True
    app.before_request(check)
    app.jinja_env.globals["csrf_token"] = csrf_token
