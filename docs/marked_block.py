"""A generated block between two marker comments in a hand-written file (the README's tables)."""

from __future__ import annotations

from pathlib import Path


def splice(path: Path, begin: str, end: str, block: str) -> str:
    """The text of `path` with what lies between `begin` and `end` replaced by `block`."""
    head, _, rest = path.read_text().partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{block}\n{end}{tail}"
