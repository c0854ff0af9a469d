"""Runtime dependencies are pinned to exact versions, so what runs is what was reviewed and audited."""

from __future__ import annotations

import re
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9][A-Za-z0-9.+!_-]*")


def test_every_runtime_requirement_is_pinned_exactly():
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements, "requirements.txt lists nothing"
    loose = [line for line in requirements if not PIN.fullmatch(line)]
    assert loose == [], f"not pinned as name==version: {loose}"


def test_the_pin_pattern_refuses_loose_requirements():
    for loose in ["flask", "flask>=3", "flask~=3.1", "flask==3.*", "flask==3.1.3 ; python_version>'3'",
                  "-e .", "git+https://github.com/pallets/flask", "flask===3.1.3"]:
        assert not PIN.fullmatch(loose), loose
    assert PIN.fullmatch("psycopg[binary]==3.3.9")
