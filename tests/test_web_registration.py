"""One-click registration (bot/web/registration.py): the manifest flow end to end against the fake GitHub,
ending with a `.env` the app starts with and a webhook it verifies; and who may start it."""

from __future__ import annotations

import html
import json
import stat
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
import requests

from bot.app import create_app, runtime_of
from bot.config import load_settings
from bot.web import registration
from tests.fakegithub import payloads

LOOPBACK, ELSEWHERE = {"REMOTE_ADDR": "127.0.0.1"}, {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def unconfigured(settings, fake_github, tmp_path):
    """A bot in setup mode whose GitHub is the fake; its .env and setup file in a temporary folder."""
    app = create_app(replace(settings, github_url=fake_github.web_url, github_api_url=fake_github.url))
    app.config.update(ENV_FILE=tmp_path / ".env", SETUP_FILE=tmp_path / "instance" / "setup.json")
    yield app
    runtime_of(app).dispose()


def start(app, environ=LOOPBACK, **form):
    return app.test_client().post("/setup/register", data=form, environ_base=environ,
                                  base_url="http://bot.example.test")


def form_of(page: str) -> tuple[str, str]:
    """The (action, manifest) of the page's form to GitHub."""
    action = html.unescape(page.split('id="manifest-form"', 1)[0].rsplit('action="', 1)[1].split('"', 1)[0])
    manifest = html.unescape(page.split('name="manifest" value="', 1)[1].split('"', 1)[0])
    return action, manifest


def test_the_manifest_is_the_apps_whole_registration(unconfigured):
    with unconfigured.app_context():
        manifest = registration.manifest("https://bot.example.com")
    assert manifest["url"] == "https://bot.example.com" and manifest["public"] is False
    assert manifest["hook_attributes"] == {"url": "https://bot.example.com/api/github/webhooks", "active": True}
    assert manifest["redirect_url"] == "https://bot.example.com/setup/done"
    assert manifest["callback_urls"] == ["https://bot.example.com/signin/callback"]
    assert manifest["default_permissions"]["actions"] == "write" and "workflow_run" in manifest["default_events"]


def test_registering_writes_an_env_the_app_starts_with_and_whose_webhook_secret_verifies(
        unconfigured, fake_github, tmp_path):
    page = start(unconfigured, organization="octo-org")
    assert page.status_code == 200
    assert f"form-action {fake_github.web_url}" in page.headers["Content-Security-Policy"]
    action, manifest = form_of(page.get_data(as_text=True))
    assert action.startswith(f"{fake_github.web_url}/organizations/octo-org/settings/apps/new?state=")
    back = requests.post(action, data={"manifest": manifest}, allow_redirects=False, timeout=10)  # GitHub's page
    assert back.status_code == 302
    returned = urlsplit(back.headers["location"])
    assert returned.path == "/setup/done"
    done = unconfigured.test_client().get(f"/setup/done?{returned.query}", base_url="http://bot.example.test")
    assert done.status_code == 200, done.get_data(as_text=True)
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = load_settings({"DATABASE_URL": runtime_of(unconfigured).settings.database_url,
                              "GITHUB_API_URL": fake_github.url}, dotenv=env_file)
    assert settings.app_id == fake_github.app_id and settings.sign_in and settings.app_slug
    configured = create_app(settings)  # the App's key works: GitHub (the fake) answers GET /app with it
    try:
        with configured.app_context():
            checked = configured.test_cli_runner().invoke(args=["check"])
        assert checked.exit_code == 0 and "GET /app answered" in checked.output, checked.output
        body = json.dumps({"zen": "Keep it logically awesome."}).encode()
        signed = payloads.headers("ping", body, settings.webhook_secrets[0])
        assert configured.test_client().post("/api/github/webhooks", data=body, headers=signed).status_code == 200
        forged = payloads.headers("ping", body, "not-the-secret")
        assert configured.test_client().post("/api/github/webhooks", data=body, headers=forged).status_code == 401
    finally:
        runtime_of(configured).dispose()
    assert "/installations/new" in done.get_data(as_text=True)


def test_a_browser_elsewhere_needs_the_setup_code(unconfigured, tmp_path):
    assert start(unconfigured, ELSEWHERE).status_code == 403
    assert start(unconfigured, ELSEWHERE, setup_code="0000-0000-0000").status_code == 403
    forwarded = unconfigured.test_client().post("/setup/register", environ_base=LOOPBACK,
                                                headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 403, "a proxy on this machine forwarding a stranger is not this machine"
    code = registration.setup_code(tmp_path / "instance" / "setup.json")
    assert start(unconfigured, ELSEWHERE, setup_code=code.lower()).status_code == 200
    assert stat.S_IMODE((tmp_path / "instance" / "setup.json").stat().st_mode) == 0o600


def test_a_state_not_made_here_writes_nothing(unconfigured, tmp_path):
    forged = unconfigured.test_client().get("/setup/done?code=abc&state=1700000000.forged")
    assert forged.status_code == 400 and not (tmp_path / ".env").exists()


def test_a_value_the_env_had_is_never_replaced_silently(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("APP_ID=1\nDATABASE_URL=postgresql://db/bot\nSECRET_KEY=" + "k" * 40 + "\n")
    kept_as = registration.write_env(env_file, {"APP_ID": "2", "WEBHOOK_SECRET": "w"})
    assert kept_as is not None and kept_as.read_text().startswith("APP_ID=1\n")
    written = env_file.read_text()
    assert "DATABASE_URL=postgresql://db/bot" in written and 'APP_ID="2"' in written and "APP_ID=1" not in written
    assert written.count("SECRET_KEY") == 1, "a SECRET_KEY it had is kept"
    assert registration.write_env(env_file, {"APP_ID": "2"}) is None, "the same value again: nothing to keep"


def test_a_configured_bot_offers_no_registration(settings, fake_github, app_key, tmp_path):
    app = create_app(replace(settings, app_id=fake_github.app_id, private_key=app_key.pem, webhook_secrets=("s",),
                             github_api_url=fake_github.url))
    try:
        assert start(app).status_code == 409
        assert 'id="register-form"' not in app.test_client().get("/").get_data(as_text=True)
    finally:
        runtime_of(app).dispose()


def test_setup_modes_home_offers_registration_and_asks_a_stranger_for_the_code(unconfigured):
    here = unconfigured.test_client().get("/", environ_base=LOOPBACK).get_data(as_text=True)
    elsewhere = unconfigured.test_client().get("/", environ_base=ELSEWHERE).get_data(as_text=True)
    assert 'id="register-form"' in here and 'name="setup_code"' not in here
    assert 'name="setup_code"' in elsewhere
