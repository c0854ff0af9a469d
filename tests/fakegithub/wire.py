"""What goes over the wire: the requests the fake records and the responses its routes return."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from requests.structures import CaseInsensitiveDict

DOCS = "https://docs.github.com/rest"


@dataclass
class Response:
    """What a route answers: a status, a body (dict/list → JSON, str/bytes as they are), headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, message: str, documentation_url: str = DOCS) -> Response:
    """GitHub's error body: `{"message", "documentation_url", "status"}`."""
    return Response(status, {"message": message, "documentation_url": documentation_url,
                             "status": str(status)})


@dataclass
class Recorded:
    """One request the fake received, and how it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict
    body: bytes
    host: str                         # "api", "blob" or "web"
    status: int | None = None         # None until answered, and for reset connections
    template: str | None = None       # the OpenAPI path template it matched
    auth_kind: str | None = None      # "jwt", "token" (installation), "user" or None
    installation_id: int | None = None
    at: float = field(default_factory=time.time)  # when it arrived, on the true clock

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None
