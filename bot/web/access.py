"""Who is asking: the request's Viewer, from the operator's `Authorization: Bearer $ADMIN_TOKEN` or a
signed-in browser session.

`current_viewer()` is the one place the page and the API ask. A request with an Authorization
header is judged by that header alone (the operator's token, or nobody). Otherwise the signed
session cookie names a browser session (bot/web/accounts.py); the person sees the repositories
GitHub lists for them with their own token (bot/caches/user_access.py, cached for every process).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import g, request, session
from werkzeug.exceptions import ServiceUnavailable

from bot.caches.user_access import TokenRefused, UserAccess
from bot.errors import RetryLater, TransientError
from bot.github.errors import GitHubError
from bot.github.oauth import OAuthUnavailable
from bot.runtime import current_runtime
from bot.web.accounts import Account, Accounts, enabled
from bot.web.viewer import OPERATOR, Viewer

log = logging.getLogger(__name__)

SESSION_KEY = "sid"  # the browser session's id, in the signed cookie


class AccessUnavailable(ServiceUnavailable):
    """503: GitHub could not be asked which repositories the person can see (or to renew their token)."""

    description = "GitHub could not be asked which repositories you can see. Try again in a minute."


def current_viewer() -> Viewer | None:
    """The viewer of this request, or None for nobody we know (the page then offers sign-in).

    Raises AccessUnavailable (503) when a signed-in person's access must be asked of GitHub and
    GitHub cannot be reached.
    """
    if "viewer" not in g:
        g.viewer = operator_bearer() if "Authorization" in request.headers else _signed_in()
    return g.viewer


def signed_in() -> bool:
    """The request comes from a person signed in with GitHub (not the operator's token, not nobody)."""
    viewer = current_viewer()
    return viewer is not None and viewer.user_id is not None


def operator_bearer() -> Viewer | None:
    """OPERATOR when the request carries `Authorization: Bearer $ADMIN_TOKEN` (compared in constant time)."""
    expected = current_runtime().settings.admin_token
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if expected and scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), expected.encode()):
        return OPERATOR
    return None


def accounts() -> Accounts:
    """This process's browser sessions and tokens (only when sign-in is enabled)."""
    runtime = current_runtime()
    return Accounts(runtime.engine, runtime.settings)


def user_token(user_id: int) -> str | None:
    """A signed-in person's GitHub token (their browser session's), renewed if need be; None once it
    is gone (then they must sign in again). OAuthUnavailable when GitHub cannot renew it now."""
    return accounts().access_token(user_id)


def _signed_in() -> Viewer | None:
    runtime = current_runtime()
    session_id = session.get(SESSION_KEY)
    if not session_id or not enabled(runtime.settings):
        return None
    people = accounts()
    account = people.session(str(session_id))
    if account is None:
        session.pop(SESSION_KEY, None)
        return None
    try:
        repository_ids = UserAccess(runtime.engine, runtime.settings.user_access_cache_ttl).repository_ids(
            account.user_id, lambda: _client(people, account))
    except TokenRefused:
        people.forget(account.user_id)
        session.pop(SESSION_KEY, None)
        return None
    except (OAuthUnavailable, TransientError, RetryLater, GitHubError) as exc:
        log.warning("access of user %s could not be asked of GitHub: %s", account.user_id, exc)
        raise AccessUnavailable() from None
    return Viewer(account.login, account.user_id, repository_ids)


def _client(people: Accounts, account: Account):
    token = people.access_token(account.user_id)
    if token is None:
        raise TokenRefused("no usable token")
    return current_runtime().github.user(token)


def at_this_machine() -> bool:
    """The browser is on the loopback interface and no proxy forwarded it (behind a proxy on this
    host every request comes from 127.0.0.1: the Forwarded headers tell them apart)."""
    forwarded = any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-Ip"))
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    return loopback and not forwarded
