"""`.github/session-bot.yml`: what a repository may set, and clear reasons when it is wrong."""

from __future__ import annotations

import pytest

from bot.repo_config import ConfigProblem, RepoConfig, read_config


@pytest.mark.parametrize("text, config", [
    ("", RepoConfig()),
    ("# nothing set\n", RepoConfig()),
    ("prefix: /agent\n", RepoConfig(prefix="/agent")),
    ("stop:\n  allow: listed\n  users: [alice, Bob]\n  teams: [octo-org/leads]\n",
     RepoConfig(stop_allow="listed", stop_users=("alice", "Bob"), stop_teams=("octo-org/leads",))),
    ("status_comment: false\nsummary: full\n", RepoConfig(status_comment=False, summary="full")),
    ("stuck:\n  queued_minutes: 5\n", RepoConfig(stuck_queued_minutes=5)),
    ("stuck:\n  running_minutes: 90\nauto_stop_after_minutes: 120\nsummary_on_finish: true\n",
     RepoConfig(stuck_running_minutes=90, auto_stop_after_minutes=120, summary_on_finish=True)),
    ("auto_stop_after_minutes:\n", RepoConfig()),
])
def test_valid_files(text, config):
    assert read_config(text) == config


@pytest.mark.parametrize("text, reason", [
    ("prefix: [", "not valid YAML"),
    ("- a list\n", "a mapping"),
    ("colour: blue\n", "unknown setting(s): `colour`"),
    ("prefix: session\n", "`prefix` must look like /session"),
    ("prefix: /Session Stop\n", "`prefix` must look like /session"),
    ("stop: write\n", "`stop` takes"),
    ("stop:\n  allow: everyone\n", "`stop.allow` must be"),
    ("stop:\n  users: alice\n", "`stop.users` must be a list"),
    ("stop:\n  teams: [leads]\n", "org/team-slug"),
    ("status_comment: sometimes\n", "true or false"),
    ("summary: brief\n", "normal or full"),
    ("summary_on_finish: yes please\n", "`summary_on_finish` must be true or false"),
    ("stuck: 15\n", "`stuck` takes"),
    ("stuck:\n  idle_minutes: 5\n", "`stuck` takes"),
    ("stuck:\n  queued_minutes: 0\n", "`stuck.queued_minutes` must be a whole number of minutes"),
    ("stuck:\n  running_minutes: 1.5\n", "`stuck.running_minutes` must be a whole number"),
    ("auto_stop_after_minutes: true\n", "`auto_stop_after_minutes` must be a whole number"),
    ("auto_stop_after_minutes: 99999999\n", "from 1 to 10,080"),
])
def test_invalid_files_say_why(text, reason):
    with pytest.raises(ConfigProblem, match=reason.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        read_config(text)
