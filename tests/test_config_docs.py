"""docs/configuration.md and the README's settings table are the code's (`.venv/bin/python docs/configuration.py`)."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import SIMPLE, Settings
from bot.config_table import SETTINGS

ROOT = Path(__file__).parents[1]
# Where settings are read from the environment.
READERS = [ROOT / "bot" / "config.py", ROOT / "bot" / "config_parse.py", ROOT / "gunicorn.conf.py"]


def generator():
    spec = importlib.util.spec_from_file_location("configuration", ROOT / "docs" / "configuration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_and_the_readme_table_are_current():
    docs = generator()
    stale = "stale: run .venv/bin/python docs/configuration.py"
    assert (ROOT / "docs" / "configuration.md").read_text() == docs.build(), stale
    assert (ROOT / "README.md").read_text() == docs.readme(), stale


def variables_read() -> set[str]:
    """Every environment variable the settings code looks up: `env.get("X")`, `env["X"]`, `"X" in env`
    (and os.environ's), and the variables of SIMPLE."""
    found = {variable for variable, _a, _p in SIMPLE}
    for path in READERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                key = node.args[0] if node.args else None
            elif isinstance(node, ast.Subscript):
                key = node.slice
            elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
                key = node.left
            else:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isupper() \
                    and key.value.replace("_", "").isalnum():
                found.add(key.value)
    return found


def test_every_variable_the_code_reads_is_documented():
    table = generator().settings_table()
    missing = sorted(name for name in variables_read() if f"`{name}`" not in table and f"`{name}=" not in table)
    assert missing == []


def test_every_documented_setting_is_read_by_the_code():
    read = variables_read()
    assert [s.variable for s in SETTINGS if s.variable not in read] == []


@pytest.mark.parametrize("variable, attribute, parse", SIMPLE, ids=[v for v, _a, _p in SIMPLE])
def test_each_documented_default_is_the_default(variable, attribute, parse):
    [documented] = [s for s in SETTINGS if variable in (s.variable, s.also)]
    default = getattr(Settings(), attribute)
    if documented.default is None:
        assert default in (None, ()), f"{variable} has a default the table does not show"
    else:
        assert parse(variable, documented.default) == default


def test_every_setting_of_the_settings_is_documented():
    simple = {attribute for _v, attribute, _p in SIMPLE}
    special = {"app_id", "private_key", "webhook_secrets", "github_api_url"}
    assert {f.name for f in fields(Settings)} == simple | special
