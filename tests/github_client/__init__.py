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
