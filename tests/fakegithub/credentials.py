"""Credentials a test presents to the fake GitHub, as the App would: its JWT, an installation token,
GitHub's headers."""

from __future__ import annotations

import json
import time

import requests
from jwt import api_jws

from tests.fakegithub import APP_ID

GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                  "User-Agent": "session-bot-tests"}
REPOS = ["acme/widgets", "acme/gadgets", "acme/gizmos"]


def app_jwt(app_key, *, iat: float | None = None, lifetime: int = 540, iss=str(APP_ID)) -> str:
    iat = int(time.time()) - 60 if iat is None else int(iat)
    # Signed at the JWS level: PyJWT's jwt.encode refuses a non-string `iss`.
    claims = json.dumps({"iat": iat, "exp": iat + lifetime, "iss": iss}).encode()
    return api_jws.encode(claims, app_key.pem, algorithm="RS256")


def as_app(app_key, **claims) -> dict:
    return {**GITHUB_HEADERS, "Authorization": f"Bearer {app_jwt(app_key, **claims)}"}


def installation_token(fake, app_key, installation_id: int = 7, **body) -> str:
    response = requests.post(f"{fake.url}/app/installations/{installation_id}/access_tokens",
                             headers=as_app(app_key), json=body or None, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def as_installation(token: str) -> dict:
    return {**GITHUB_HEADERS, "Authorization": f"token {token}"}


def as_user(token: str) -> dict:
    """Headers presenting a user access token (`ghu_…`), as GitHub's docs show it."""
    return {**GITHUB_HEADERS, "Authorization": f"Bearer {token}"}
