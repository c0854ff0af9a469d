"""Micro-benchmark: microseconds per `bot.redact.redact` call on typical outside text.

    .venv/bin/python -m bench.redact

`redact` runs on every log line the bot writes (bot/logging_config.py) and on every text a log summary keeps, so
a typical line should cost well under 50 µs. Texts: a plain 200-character log line, one naming a
secret-like word (which wakes the keyword-gated rules), one holding a secret, and a 4 KB excerpt of
agent output (pytest, git, paths). Best of five repeats, as `timeit` advises.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redact import redact  # noqa: E402

PLAIN = ("2024-05-02T10:11:12Z job 4711 delivered 3f2a9c1e-8d4b-4c6a-9e1f-0a1b2c3d4e5f to worker-2 in 12 ms; "
         "queue depth 3, leases held 1, next poll in 250 ms (octo-org/hello#42 workflow_run completed)")
KEYWORD = ("2024-05-02T10:11:12Z refreshing installation token for octo-org/hello: cache key inst-42, "
           "expires in 3600 s; api calls left 4987 of 5000, secret scanning alerts 0, auth via app 1234")
SECRET = ("2024-05-02T10:11:12Z git push https://x-access-token:ghs_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github"
          ".com/octo-org/hello.git failed: remote rejected (password=hunter2 was not accepted) after 3 tries")
EXCERPT = "\n".join([
    "============================= test session starts ==============================",
    "platform linux -- Python 3.11.9, pytest-8.2.0, pluggy-1.5.0",
    "rootdir: /home/runner/work/hello/hello",
    "collected 42 items",
    "tests/test_api.py::test_token_refresh PASSED                               [  2%]",
    "tests/test_api.py::test_secret_key_rotation FAILED                        [  4%]",
    "E   AssertionError: assert 'key-2024-05' == 'key-2024-06'",
    "commit 9dfef08c1e2a3b4c5d6e7f8091a2b3c4d5e6f708 (HEAD -> main, origin/main)",
    "Author: Octo Cat <octocat@example.com>",
    "    Split bot/redact.py: secrets stay there, markdown neutralising moves to bot/inert.py",
    "build id: 7Hq2xZ0pL9mN4vB8cR1tY6uW3sA5dF7g, image sha256:4f1e2d3c4b5a69788796a5b4c3d2e1f0",
] * 6)[:4096]
TEXTS = {"plain 200-char line": PLAIN, "line with keywords": KEYWORD, "line with secrets": SECRET,
         "4 KB agent output": EXCERPT}


def microseconds(text: str, number: int = 2000) -> float:
    """Best-of-five microseconds per `redact(text)`."""
    return min(timeit.repeat(lambda: redact(text), number=number, repeat=5)) / number * 1e6


def main() -> None:
    """Print one line per text: its size and the microseconds one `redact` call takes."""
    for name, text in TEXTS.items():
        print(f"{name:24} {len(text):5} chars  {microseconds(text, 200 if len(text) > 1000 else 2000):8.1f} µs")


if __name__ == "__main__":
    main()
