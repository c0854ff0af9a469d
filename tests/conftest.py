"""Shared fixtures: the fake GitHub, signed deliveries, databases and real servers."""

pytest_plugins = ["tests.fakegithub.pytest_plugin"]
