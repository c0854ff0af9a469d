"""`make demo` (tests/demo.py): its bot answers a comment typed on the fake GitHub's pull-request page."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.browser.scene import VIEWER
from tests.demo import Demo
from tests.harness.processes import ROOT, bot_env


@pytest.fixture(scope="module")
def demo():
    demo = Demo()
    yield demo
    demo.stop()


def test_a_comment_typed_on_the_pull_request_page_gets_the_bots_reply_there(demo):
    reply = demo.scene.comment("live", "/session list")
    assert f"@{VIEWER}" in reply["body"] and "🟢 running" in reply["body"]
    shown = requests.get(demo.pull_url("live"), timeout=10).text  # rendered as GitHub renders a comment
    assert f"{VIEWER} commented" in shown and "session-bot:reply" not in shown  # (the marker is an HTML comment)


def test_the_banner_says_it_is_a_simulation_and_where_to_look(demo):
    banner = demo.banner()
    assert "LOCAL SIMULATION" in banner and f"{demo.scene.url}/sessions" in banner and demo.pull_url() in banner
    settings = dict(line.split("=", 1) for line in demo.env_file.read_text().splitlines())
    assert settings["GITHUB_API_URL"] == demo.scene.fake.url and " " not in demo.env_file.read_text()


def test_the_receive_command_the_banner_prints_runs_against_the_demos_fake(demo):
    settings = dict(line.split("=", 1) for line in demo.env_file.read_text().splitlines())
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "receive", "--event", "issue_comment",
                             "--wait", "0", str(demo.payload_file)], cwd=ROOT, capture_output=True, text=True,
                            env=bot_env(**settings, HOME=str(demo.env_file.parent)), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "delivered issue_comment as " in result.stdout and "/issues/412/comments → 201" in result.stdout
