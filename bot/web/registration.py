"""One-click registration (GitHub's App manifest flow), offered by an unconfigured bot on `/`.

    POST /setup/register   → a page whose button posts config/app-manifest.yml to GitHub (with a signed `state`)
    GET  /setup/done       ← GitHub: `code` and `state`; the code converted into the App's credentials,
                             written to `.env` (mode 600), then the bot restarts itself with them

Only someone at the bot's own machine may start it: a browser on the loopback interface that no proxy
forwarded, or one that types the setup code the server logs at startup. Otherwise a stranger could
register their own App into this server's `.env` and receive its webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import time
from pathlib import Path

import yaml
from flask import Blueprint, current_app, request

from bot.config_parse import read_dotenv
from bot.errors import TransientError
from bot.github import manifests
from bot.github.errors import GitHubError
from bot.runtime import current_runtime
from bot.web.access import at_this_machine
from bot.web.pages import page

blueprint = Blueprint("setup", __name__)

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "app-manifest.yml"
SETUP_FILE = Path("instance") / "setup.json"  # the setup code and the key that signs `state`
ENV_FILE = Path(".env")  # where load_settings() looks (app.config["ENV_FILE"] in tests)
STATE_LIFETIME = 3600.0
WRITTEN = ("APP_ID", "APP_SLUG", "PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")


def setup_code(path: Path | None = None) -> str:
    """The one-time code a remote browser must type to register the App (made on first use, mode 600);
    gunicorn's master logs it at startup in setup mode."""
    return _setup(path)["code"]


def manifest(base_url: str) -> dict:
    """config/app-manifest.yml with "{base_url}" made the bot's address."""
    def fill(value):
        if isinstance(value, str):
            return value.replace("{base_url}", base_url.rstrip("/"))
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {k: fill(v) for k, v in value.items()} if isinstance(value, dict) else value
    return fill(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


@blueprint.post("/setup/register")
def register():
    """Check who asks, then hand the manifest to their browser, to post to GitHub."""
    settings = current_runtime().settings
    if not settings.setup_mode:
        return page("setup/refused.html", 409, reason="This bot is configured already: its App is registered.")
    typed = request.form.get("setup_code", "").strip().upper()
    if not at_this_machine() and not hmac.compare_digest(typed.encode(), setup_code().encode()):
        return page("setup/refused.html", 403, reason="Registering the App needs a browser on the bot's own "
                    "machine, or the setup code the server wrote in its log when it started.")
    organisation = request.form.get("organization", "").strip()
    if organisation and not all(c.isalnum() or c == "-" for c in organisation):
        return page("setup/refused.html", 400, reason="An organisation's name is letters, digits and hyphens.")
    base_url = request.host_url.rstrip("/")
    target = f"{settings.github_url}/organizations/{organisation}/settings/apps/new" if organisation \
        else f"{settings.github_url}/settings/apps/new"
    response = current_app.make_response(page("setup/github.html", target=target, state=_state(),
                                              manifest=json.dumps(manifest(base_url)), base_url=base_url))
    # This one form posts to GitHub: the policy allows it here and nowhere else.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + settings.github_url +
        "; frame-ancestors 'none'; base-uri 'none'")
    return response


@blueprint.get("/setup/done")
def done():
    """GitHub sent the browser back: convert the code, write `.env`, restart with it."""
    settings = current_runtime().settings
    if not settings.setup_mode:
        return page("setup/refused.html", 409, reason="This bot is configured already: its App is registered.")
    if not _state_valid(request.args.get("state", "")):
        return page("setup/refused.html", 400, reason="This registration was not started here, or it is over an "
                                                      "hour old. Start it again from the home page.")
    try:
        app = manifests.convert(settings.github_api_url, request.args.get("code", ""))
    except (GitHubError, TransientError) as exc:
        return page("setup/refused.html", 502, reason=f"GitHub did not give the App's credentials ({exc}). "
                                                      "Start again from the home page.")
    env_file = Path(current_app.config.get("ENV_FILE", ENV_FILE))
    kept_as = write_env(env_file, {
        "APP_ID": str(app["id"]), "APP_SLUG": app["slug"], "PRIVATE_KEY": app["pem"].strip().replace("\n", "\\n"),
        "WEBHOOK_SECRET": app["webhook_secret"], "GITHUB_CLIENT_ID": app["client_id"],
        "GITHUB_CLIENT_SECRET": app["client_secret"]})
    restarting = request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")
    if restarting:  # gunicorn's master reloads on SIGHUP: new workers read the new .env
        os.kill(os.getppid(), signal.SIGHUP)
    return page("setup/done.html", app=app, env_file=env_file, kept_as=kept_as, restarting=restarting)


def write_env(path: Path, values: dict[str, str]) -> Path | None:
    """Set `values` in the `.env` at `path` (mode 600), keeping its other lines; a SECRET_KEY is added if
    it has none. A value it had already is never replaced silently: the old file is kept beside it,
    and its name returned."""
    before = path.read_text() if path.exists() else ""
    existing = read_dotenv(path) if before else {}
    kept_as = None
    if any(existing.get(name) not in (None, "", value) for name, value in values.items()):
        kept_as = path.with_name(f"{path.name}.before-registration-{int(time.time())}")
        _write_private(kept_as, before)
    values = {**values, **({} if existing.get("SECRET_KEY") else {"SECRET_KEY": secrets.token_urlsafe(32)})}
    lines = [line for line in before.splitlines()
             if line.split("=", 1)[0].removeprefix("export ").strip() not in values]
    lines += ["", "# Written by session-bot's registration of its GitHub App (the manifest flow)"]
    lines += [f'{name}="{value}"' for name, value in values.items()]
    _write_private(path, "\n".join(lines).lstrip("\n") + "\n")
    return kept_as


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by this user only, replacing the file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _setup(path: Path | None = None) -> dict:
    """The setup file, made once with O_EXCL (gunicorn's master makes it; every worker reads it)."""
    path = path or Path(current_app.config.get("SETUP_FILE", SETUP_FILE))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = {"code": "-".join(secrets.token_hex(2).upper() for _ in range(3)), "key": secrets.token_hex(32)}
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it first
        else:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(made, handle)
    return json.loads(path.read_text())


def _state() -> str:
    """A `state` for GitHub to send back: when it was made, signed with the setup key."""
    issued = str(int(time.time()))
    return f"{issued}.{_sign(issued)}"


def _state_valid(state: str) -> bool:
    issued, _, signature = state.partition(".")
    return (issued.isdigit() and hmac.compare_digest(signature.encode(), _sign(issued).encode())
            and time.time() - int(issued) < STATE_LIFETIME)


def _sign(text: str) -> str:
    digest = hmac.new(bytes.fromhex(_setup()["key"]), text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
