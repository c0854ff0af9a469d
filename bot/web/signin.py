"""Sign-in with GitHub (the App's user authorization), sign-out, and the account page.

    GET  /signin               → GitHub's authorize page (state + PKCE); `?next=/local/path` comes back after
    GET  /signin/callback      ← GitHub: state checked, code exchanged, `GET /user`, a browser session opened
    POST /signout              the browser session, the person's token and their cached access deleted
    GET  /account              who is signed in, and whether their token is kept beyond the browser session
    POST /account/keep-token   `keep=1` or `keep=0`

The cookie is Flask's signed session, `session_bot`: HttpOnly, SameSite=Lax, Secure unless the page
is served to localhost. It holds the browser session's id and the CSRF secret, and during a sign-in
the state, PKCE verifier and `next` of that sign-in (removed when GitHub sends the browser back).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from bot.errors import RetryLater, TransientError
from bot.github import api
from bot.github.errors import GitHubError
from bot.github.oauth import OAuthRefused, OAuthUnavailable
from bot.people.sealing import cookie_keys
from bot.people.tokens import web_flow
from bot.runtime import current_runtime
from bot.web import csrf
from bot.web.access import SESSION_KEY, accounts, current_viewer
from bot.web.accounts import enabled
from bot.web.pages import page

log = logging.getLogger(__name__)

blueprint = Blueprint("signin", __name__, template_folder="templates")

COOKIE_NAME = "session_bot"
PENDING = "signin"  # the session key of a sign-in under way
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_NEXT = "/sessions"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, `Secure` everywhere but on localhost (plain http is only fine there)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return (urlsplit("//" + request.host).hostname or "") not in LOCAL_HOSTS


def install(app: Flask) -> None:
    """The sign-in routes, the session cookie (keys derived from SECRET_KEY, when it is set) and CSRF."""
    settings = app.extensions["session_bot"].settings
    if settings.secret_keys:
        newest, *older = cookie_keys(settings.secret_keys)
        app.secret_key = newest
        app.config["SECRET_KEY_FALLBACKS"] = older
    app.config.update(SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = SessionCookies()
    app.register_blueprint(blueprint)
    csrf.install(app)


def local_path(target: str | None, default: str = DEFAULT_NEXT) -> str:
    """`target` if it is a path on this site ("/sessions?state=running"), else `default`: never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    return target


@blueprint.get("/signin")
def signin():
    settings = current_runtime().settings
    if not enabled(settings):
        return page("signin/setup.html", callback=url_for("signin.callback", _external=True))
    authorization = web_flow(settings).authorize(url_for("signin.callback", _external=True))
    session[PENDING] = {"state": authorization.state, "verifier": authorization.code_verifier,
                        "next": local_path(request.args.get("next"))}
    return redirect(authorization.url)


@blueprint.get("/signin/callback")
def callback():
    runtime = current_runtime()
    pending = session.pop(PENDING, None)
    if not enabled(runtime.settings) or not isinstance(pending, dict):
        return _failed("This sign-in was not started from this browser, or has already been used.", 400)
    try:
        token = web_flow(runtime.settings).exchange(
            request.url, state=pending["state"], code_verifier=pending["verifier"],
            redirect_uri=url_for("signin.callback", _external=True))
        user = api.authenticated_user(runtime.github.user(token.access_token))
        user_id, login = int(user["id"]), str(user["login"])
    except OAuthRefused as exc:
        log.info("sign-in refused: %s", exc.error)
        return _failed(f"GitHub did not sign you in ({exc.error}).", 400)
    except (OAuthUnavailable, TransientError, RetryLater, GitHubError, KeyError, TypeError, ValueError) as exc:
        log.warning("sign-in failed: %s", type(exc).__name__)
        return _failed("GitHub could not be reached to finish signing you in.", 503)
    session_id = accounts().open_session(user_id, login, token)
    session.clear()  # nothing from before the sign-in carries over (a planted CSRF token, say)
    session[SESSION_KEY] = session_id
    csrf.renew()
    return redirect(pending["next"])


@blueprint.post("/signout")
def signout():
    session_id = session.get(SESSION_KEY)
    if session_id and enabled(current_runtime().settings):
        accounts().end_session(str(session_id))
    session.clear()
    return redirect("/")


@blueprint.get("/account")
def account():
    viewer = current_viewer()
    if viewer is None or viewer.user_id is None:
        return redirect(url_for("signin.signin", next="/account"))
    return page("signin/account.html", kept=accounts().token_kept(viewer.user_id))


@blueprint.post("/account/keep-token")
def keep_token():
    viewer = current_viewer()
    if viewer is None or viewer.user_id is None:
        return _failed("Sign in first.", 401)
    accounts().keep_token(viewer.user_id, request.form.get("keep") in ("1", "true", "on"))
    return redirect(local_path(request.form.get("next"), "/account"))


def _failed(message: str, status: int):
    return page("signin/failed.html", status, message=message)
