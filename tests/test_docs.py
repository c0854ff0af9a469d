"""docs/commands.md and the README's table of commands are what the code renders today (regenerate:
`.venv/bin/python docs/samples.py`)."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).parents[1] / "docs"


def test_command_samples_are_current():
    spec = importlib.util.spec_from_file_location("samples", DOCS / "samples.py")
    samples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(samples)
    assert (DOCS / "commands.md").read_text() == samples.build(), \
        "docs/commands.md is stale: run .venv/bin/python docs/samples.py"
    assert samples.README.read_text() == samples.readme(), \
        "the README's table of commands is stale: run .venv/bin/python docs/samples.py"
