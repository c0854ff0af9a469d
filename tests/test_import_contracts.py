"""The import contracts in .importlinter hold, and a forbidden import breaks them.

`make test` runs `lint-imports` on the real tree; these tests run it on a copy, so a broken rule
is proved to fail the check without touching bot/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of bot/ and the contracts, for a test to break."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess:
    # import-linter puts the working directory on sys.path, so the copy is what it reads.
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=tree,
                          capture_output=True, text=True, timeout=60)


def add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_copy_keeps_every_contract(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, line, contract, chain", [
    ("outbox.py", "from bot.github import api", "The webhook intake never imports the GitHub edge",
     "bot.outbox -> bot.github.api"),
    ("webhooks.py", "import requests", "The webhook intake never imports the GitHub edge",
     "bot.webhooks -> requests"),
    ("sessions/store.py", "from bot.commands import replies",
     "The index never imports the GitHub edge, the handlers or the commands",
     "bot.sessions.store -> bot.commands.replies"),
    ("logs/summary.py", "from bot import db", "The log summariser is pure", "bot.logs.summary -> bot.db"),
    ("github/api.py", "from bot.sessions import queries", "The GitHub edge imports no domain module",
     "bot.github.api -> bot.sessions.queries"),
    ("sessions/model.py", "from bot.handlers import index", "Layers:", "bot.sessions.model -> bot.handlers.index"),
])
def test_a_forbidden_import_fails_the_check_naming_its_contract(tree, module, line, contract, chain):
    add_import(tree / "bot" / module, line)
    result = lint(tree)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts"):]
    assert contract in broken
    assert chain in broken


def test_an_indirect_import_counts(tree):
    # The intake may import bot.jobs; bot.jobs importing the edge would reach GitHub all the same.
    add_import(tree / "bot" / "jobs.py", "from bot.github import api")
    result = lint(tree)
    assert result.returncode != 0
    assert "The webhook intake never imports the GitHub edge BROKEN" in result.stdout
