"""Turning a registered App's one-time manifest code into its credentials (GitHub's manifest flow).

`POST /app-manifests/{code}/conversions` takes no credentials: the code is the secret, once.
"""

from __future__ import annotations

import time

import requests

from bot.errors import TransientError
from bot.github.errors import error_for
from bot.github.transport import API_VERSION

TIMEOUT = (5.0, 30.0)


def convert(api_url: str, code: str) -> dict:
    """The new App's `id`, `slug`, `html_url`, `pem`, `webhook_secret`, `client_id`, `client_secret`…;
    GitHubError when GitHub refuses the code (used, expired, unknown), TransientError when it cannot be asked."""
    url = f"{api_url.rstrip('/')}/app-manifests/{requests.utils.quote(code, safe='')}/conversions"
    try:
        response = requests.post(url, headers={"Accept": "application/vnd.github+json",
                                               "X-GitHub-Api-Version": API_VERSION}, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"{url.split('/')[2]} could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 400:
        raise error_for(response, "POST /app-manifests/…/conversions", time.time())
    return response.json()
