"""Routes for run and job logs (302 to the blob host, as GitHub answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import FakeGitHub


def register(fake: FakeGitHub) -> None:
    """Add this module's routes (and any state they keep) to `fake`."""
