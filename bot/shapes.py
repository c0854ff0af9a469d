"""Payload shapes: the fields a webhook handler reads, checked once before any handler runs.

A signed delivery can still lack a field or carry one of the wrong type (a changed GitHub schema,
a hand-made redelivery, a leaked secret). Retrying cannot fix it, so `bot.events` checks each
handler's declared shape at the door and fails the delivery permanently, naming the field,
instead of letting a KeyError deep in a handler look like a transient failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import PermanentError
from bot.patterns import linear

ID = "a GitHub id"                     # a positive integer that fits a BIGINT column
NUMBER = "a positive number"           # an issue/PR number or attempt: fits an INTEGER column
TEXT = "text"                          # a string PostgreSQL can store (no NUL, no lone surrogate)
TIME = "an ISO 8601 time"
FLAG = "true or false"
REPO_NAME = "an owner/name"            # safe to put in an API path


@dataclass(frozen=True)
class Maybe:
    """The field may be absent or null; when present it must fit `shape`."""

    shape: Any


_REPO_NAME = linear(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_LIMITS = {ID: 2**63 - 1, NUMBER: 2**31 - 1}


def check_shape(value: Any, shape: Any, where: str = "payload") -> None:
    """Raise PermanentError naming the first field of `value` that does not fit `shape`.

    A shape is one of the names above, `Maybe(shape)`, `[shape]` (a list of such items) or a dict
    of field → shape (an object with at least those fields; others are not looked at).
    """
    if isinstance(shape, Maybe):
        if value is not None:
            check_shape(value, shape.shape, where)
        return
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise PermanentError(f"{where} must be an object")
        for name, inner in shape.items():
            if name not in value and not isinstance(inner, Maybe):
                raise PermanentError(f"{where}.{name} is missing")
            check_shape(value.get(name), inner, f"{where}.{name}")
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise PermanentError(f"{where} must be a list")
        for n, item in enumerate(value):
            check_shape(item, shape[0], f"{where}[{n}]")
        return
    if not _fits(value, shape):
        raise PermanentError(f"{where} must be {shape}")


def _fits(value: Any, shape: str) -> bool:
    if shape in _LIMITS:
        return type(value) is int and 0 < value <= _LIMITS[shape]
    if shape == FLAG:
        return isinstance(value, bool)
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON)
        return False
    if shape == TIME:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    if shape == REPO_NAME:
        return bool(_REPO_NAME.fullmatch(value)) and not {".", ".."} & set(value.split("/"))
    return True


# Shapes shared by several handlers.
ACCOUNT = {"login": TEXT, "type": Maybe(TEXT)}
REPOSITORY = {"id": ID, "full_name": REPO_NAME}
INSTALLATION = {"id": ID}
