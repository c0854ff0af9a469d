"""The GitHub client (bot/github/client.py) against the fake GitHub: authentication and headers
(test_auth.py), reading and downloads (test_reading.py), failures, retries, rate limits and pacing
(test_retries.py); the fixtures are in conftest.py."""

import socket

REPO = "octo-org/hello"
INSTALLATION = 77
T_NOW = 1_700_000_000.0


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once the socket closes


class MemoryETagStore:
    """An ETagStore in a dict (the bot's own keeps them in the database)."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, object]] = {}

    def get(self, key: str):
        return self.items.get(key)

    def put(self, key: str, etag: str, body) -> None:
        self.items[key] = (etag, body)
