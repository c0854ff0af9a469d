"""An older commit of the bot checked out beside this one, so one run can measure before and after."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

from tests.harness.processes import ROOT


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True,
                          timeout=300).stdout.strip()


@contextlib.contextmanager
def checkout(commit: str) -> Iterator[tuple[Path, str]]:
    """`commit` in a temporary `git worktree add --detach`: (its folder, its short sha); removed after.

    Processes started there import that commit's `bot` and read its gunicorn.conf.py, on this
    checkout's .venv (see `requirements_changed`).
    """
    short = _git("rev-parse", "--short", f"{commit}^{{commit}}")
    parent = Path(tempfile.mkdtemp(prefix=f"sb-baseline-{short}-"))
    folder = parent / "checkout"
    _git("worktree", "add", "--detach", str(folder), short)
    try:
        yield folder, short
    finally:
        try:
            _git("worktree", "remove", "--force", str(folder))
        finally:
            shutil.rmtree(parent, ignore_errors=True)
            _git("worktree", "prune")


def requirements_changed(commit: str) -> bool:
    """Whether requirements.txt differs between `commit` and this checkout: the older code then runs on
    dependencies it was not written for, which the report should say."""
    return bool(_git("diff", "--name-only", commit, "--", "requirements.txt"))
