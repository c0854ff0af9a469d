"""Security headers on every response: a strict Content-Security-Policy, no framing, no sniffing.

The pages load only our own stylesheet, script and icons (no inline script or style anywhere), so the
policy allows 'self' and nothing else; pages showing data are never stored by a browser or proxy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response

from bot.runtime import current_runtime


def content_security_policy(github_url: str | None) -> str:
    """The policy; `github_url`'s origin may receive a form's redirect (sign-in goes to GitHub)."""
    form_action = "'self'"
    if github_url:
        parts = urlsplit(github_url)
        form_action += f" {parts.scheme}://{parts.netloc}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")


def secure(response: Response) -> Response:
    """Flask's after_request: the headers every response carries. A response that chose its own
    Cache-Control (static files: revalidate; the API: its ETag) keeps it; everything else is no-store."""
    settings = current_runtime().settings
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       content_security_policy(settings.github_url if settings.sign_in else None))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")
    return response
