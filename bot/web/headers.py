"""Security headers on every response: a strict Content-Security-Policy, no framing, no sniffing.

The pages load only our own stylesheet, script and icons (no inline script or style anywhere), so the
policy allows 'self' and nothing else. Forms post only to this site: sign-in is a link (a GET that
redirects to GitHub), which `form-action` does not govern. Pages showing data are never stored.
"""

from __future__ import annotations

from flask import Response

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def secure(response: Response) -> Response:
    """Flask's after_request: the headers every response carries. A response that chose its own
    Cache-Control (static files: revalidate; the API: its ETag) keeps it; everything else is no-store."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")
    return response
