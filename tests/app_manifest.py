"""config/app-manifest.yml as tests read it: the permissions and events the App asks for, each
permission's reason, and whether a grant covers what a route needs (the fake GitHub refuses by it)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[1] / "config" / "app-manifest.yml"
LEVELS = {"read": 1, "write": 2, "admin": 3}


@functools.cache
def manifest() -> dict:
    """config/app-manifest.yml, parsed."""
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def default_permissions() -> dict[str, str]:
    """The permissions the App asks for: {"actions": "write", ...}."""
    return dict(manifest()["default_permissions"])


def default_events() -> list[str]:
    """The webhook events the App subscribes to."""
    return list(manifest().get("default_events") or [])


def reasons() -> dict[str, str]:
    """Each permission's reason, from the comment above it in the manifest."""
    found, comment = {}, []
    in_table = False
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if not line.startswith(" "):
            in_table, comment = line.startswith("default_permissions:"), []
            continue
        text = line.strip()
        if not in_table:
            continue
        if text.startswith("#"):
            comment.append(text.lstrip("# "))
        elif ":" in text:
            found[text.split(":", 1)[0]] = " ".join(comment)
            comment = []
    return found


def covers(granted: dict, level_of: tuple[str, str]) -> bool:
    """Whether `granted` ({"actions": "write", ...}) includes the (permission, level) `level_of`."""
    name, level = level_of
    return LEVELS.get(granted.get(name) or "", 0) >= LEVELS[level]
