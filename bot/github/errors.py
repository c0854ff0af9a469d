"""How GitHub's answers and connection failures become the job queue's exceptions.

A 4xx GitHub meant is a GitHubError (permanent); a 403 "Resource not accessible by integration" is
a MissingPermission (permanent too: only an owner granting the permission helps); a rate limit is
RetryLater (deferred, never slept through in a worker); a failure of the connection or a 5xx is
TransientError, `ambiguous` when the request may have taken effect.
"""

from __future__ import annotations

import email.utils

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from bot.errors import PermanentError, RetryLater, TransientError
from bot.github import permissions

SECONDARY_LIMIT_WAIT = 60.0


class GitHubError(PermanentError):
    """A 4xx GitHub meant (404, 410, 422, ...): repeating the same request cannot help."""

    def __init__(self, status: int, message: str, documentation_url: str | None = None, where: str = ""):
        super().__init__(f"GitHub answered {status} to {where}: {message}" if where else message)
        self.status = status
        self.message = message
        self.documentation_url = documentation_url


class MissingPermission(GitHubError):
    """GitHub's 403 "Resource not accessible by integration": the installation lacks a permission.

    `needs` is what the route needs (any one of the sets, from bot.github.permissions); None for
    a route the table does not know.
    """

    def __init__(self, message: str, documentation_url: str | None, where: str):
        super().__init__(403, message, documentation_url, where)
        method, _, path = where.partition(" ")
        self.needs = permissions.needed(method, path)


class BlobMissing(TransientError):
    """A download's redirect target answered 404: not written yet (a running job's log)."""


def transient(message: str, *, ambiguous: bool = False, not_before: float | None = None) -> TransientError:
    """A TransientError; `ambiguous` means the request may have taken effect, so check before repeating,
    and not before `not_before` (unix seconds): a request GitHub is still processing could land after
    a look that came too early."""
    err = TransientError(message)
    err.ambiguous = ambiguous  # type: ignore[attr-defined]
    err.not_before = not_before  # type: ignore[attr-defined]
    return err


def never_sent(exc: requests.RequestException) -> bool:
    """True when the connection failed before any byte of the request left (always safe to retry)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError (refused, DNS failure) is a subclass of ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError)


def _error_body(resp: requests.Response) -> dict:
    """GitHub's error JSON ({"message", "documentation_url"}), or {} when the body is something else."""
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def message_of(resp: requests.Response) -> str:
    """GitHub's error `message`, or the reason phrase when the body is not GitHub's JSON."""
    return str(_error_body(resp).get("message") or resp.reason or "")


def http_date(value: str | None) -> float | None:
    """Unix seconds from an HTTP date header, or None if missing or malformed."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def error_for(resp: requests.Response, where: str, now: float) -> Exception:
    """The exception for a 4xx: RetryLater for rate limits (never sleep in a worker), else GitHubError."""
    status, headers, message = resp.status_code, resp.headers, message_of(resp)
    if status in (403, 429):
        candidates = []
        retry_after = headers.get("Retry-After", "").strip()
        if retry_after:
            candidates.append(now + int(retry_after) if retry_after.isdigit()
                              else http_date(retry_after) or now + SECONDARY_LIMIT_WAIT)
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            # +1: requests made within the reset second itself can still be refused.
            candidates.append(int(headers["x-ratelimit-reset"]) + 1)
        if not candidates and (status == 429 or "rate limit" in message.lower()):
            candidates.append(now + SECONDARY_LIMIT_WAIT)  # GitHub's advice when it gives no hint
        if candidates:
            return RetryLater(max(candidates), f"GitHub rate limit ({status}) on {where}")
    documentation_url = _error_body(resp).get("documentation_url")
    if status == 403 and message == permissions.NOT_ACCESSIBLE:
        return MissingPermission(message, documentation_url, where)
    return GitHubError(status, message, documentation_url, where)
