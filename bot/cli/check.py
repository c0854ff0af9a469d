"""`flask --app app check`: does this deployment work? One line per check, exit 1 when one fails.

Loading the app already refuses bad settings (and a private key that does not load, and a database
it cannot open) with one line naming the variable; this checks what loading cannot: that the key
signs a JWT its own public half verifies, that the database answers and is at the newest migration,
and that GitHub, when it can be reached, accepts the key for the App's id.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
import jwt
from sqlalchemy import text

from bot import db
from bot.config import describe
from bot.errors import RetryLater, TransientError
from bot.github import api
from bot.github.auth import load_rsa_private_key
from bot.github.errors import GitHubError
from bot.runtime import current_runtime


@dataclass(frozen=True)
class Result:
    """One check: "ok", "FAIL" or "skip", what was checked, and what was found."""

    status: str
    what: str
    found: str


@click.command("check", help="Check the settings, the App's key, the database and GitHub; one line each.")
def check():
    runtime = current_runtime()
    results = [_settings(runtime.settings), _key(runtime.settings), _database(runtime), _github(runtime)]
    for result in results:
        click.echo(f"{result.status:<4}  {result.what}: {result.found}")
    if any(result.status == "FAIL" for result in results):
        raise SystemExit(1)


def _settings(settings) -> Result:
    shown = describe(settings)
    mode = "setup mode (no GitHub App settings yet)" if settings.setup_mode else f"GitHub App {settings.app_id}"
    return Result("ok", "settings", f"{mode}, database {shown['database_url']}, API {settings.github_api_url}")


def _key(settings) -> Result:
    if settings.setup_mode:
        return Result("skip", "private key", "no GitHub App settings yet")
    key = load_rsa_private_key(settings.private_key)  # loading the app has proved it loads
    token = jwt.encode({"iss": str(settings.app_id), "iat": 0, "exp": 60}, key, algorithm="RS256")
    try:
        jwt.decode(token, key.public_key(), algorithms=["RS256"], options={"verify_exp": False})
    except jwt.PyJWTError as exc:
        return Result("FAIL", "private key", f"it signs a JWT its own public key does not verify ({exc})")
    return Result("ok", "private key", f"a {key.key_size}-bit RSA key that signs and verifies an app JWT")


def _database(runtime) -> Result:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = db.current_revision(runtime.engine), db.head_revision()
    except Exception as exc:  # whatever the driver raises: the line names it
        return Result("FAIL", "database", f"does not answer: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
    if current != head:
        return Result("FAIL", "database", f"at migration {current}, the newest is {head}: run "
                                          "`flask --app app db upgrade`")
    return Result("ok", "database", f"answers, at the newest migration ({head})")


def _github(runtime) -> Result:
    if runtime.github is None:
        return Result("skip", "GitHub", "no GitHub App settings yet")
    try:
        answer = api.authenticated_app(runtime.github.app())
    except (TransientError, RetryLater) as exc:  # unreachable from here: a laptop offline, a firewall
        return Result("skip", "GitHub", f"could not be asked: {exc}")
    except GitHubError as exc:
        return Result("FAIL", "GitHub", f"refused the App's key for APP_ID {runtime.settings.app_id}: {exc}")
    return Result("ok", "GitHub", f"GET /app answered: the App {answer.get('slug') or answer.get('name')!r} "
                                  f"(id {answer.get('id')}) accepts this key")
