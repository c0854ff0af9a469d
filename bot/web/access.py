"""Who is asking: the request's Viewer, from the operator's `Authorization: Bearer $ADMIN_TOKEN`.

Sign-in (a person's browser session) joins here: `current_viewer()` is the one place the page and
the API ask.
"""

from __future__ import annotations

import hmac

from flask import g, request

from bot.runtime import current_runtime
from bot.web.viewer import OPERATOR, Viewer


def current_viewer() -> Viewer | None:
    """The viewer of this request, or None for nobody we know (the page then offers sign-in)."""
    if "viewer" not in g:
        g.viewer = _operator_token() or None
    return g.viewer


def _operator_token() -> Viewer | None:
    expected = current_runtime().settings.admin_token
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if expected and scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), expected.encode()):
        return OPERATOR
    return None
