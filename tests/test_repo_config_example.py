"""config/session-bot.example.yml documents every repository option with its default."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from bot.repo_config import RepoConfig, read_config

EXAMPLE = Path(__file__).parent.parent / "config" / "session-bot.example.yml"


def test_the_example_is_a_valid_config_that_says_exactly_the_defaults():
    assert read_config(EXAMPLE.read_text()) == RepoConfig()


def test_the_example_names_every_option():
    text = EXAMPLE.read_text()
    names = {"stop_allow": "allow:", "stop_users": "users:", "stop_teams": "teams:",
             "stuck_queued_minutes": "queued_minutes:", "stuck_running_minutes": "running_minutes:"}
    for option in fields(RepoConfig):
        assert names.get(option.name, f"{option.name}:") in text, option.name
