"""Real processes for integration tests: gunicorn serving app:app, and `python -m bot.worker`.

Every server binds to port 0; the port is read from gunicorn's own "Listening at" line, so
parallel test runs on one machine never collide.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).parents[1]
_LISTENING = re.compile(r"Listening at: (http://[\d.]+:\d+)")


class Process:
    """A child process whose combined output is collected for assertions and failure reports."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.output: list[str] = []
        self._lines = threading.Condition()
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stdout:
            with self._lines:
                self.output.append(line.rstrip("\n"))
                self._lines.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """Block until a line of output matches, or fail with what the process printed."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lines:
            while True:
                for line in self.output:
                    if match := regex.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no line matching {pattern!r}; output:\n" + self.text())
                self._lines.wait(min(left, 0.2))

    def text(self) -> str:
        with self._lines:
            return "\n".join(self.output)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode


def bot_env(**settings: str) -> dict[str, str]:
    """The environment of a bot process: this interpreter's PATH plus the given settings only."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "LOG_FORMAT": "text"}
    env.update({key: str(value) for key, value in settings.items()})
    return env


class Gunicorn(Process):
    """`gunicorn app:app` with the repository's gunicorn.conf.py, on 127.0.0.1:0."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        super().__init__([sys.executable, "-m", "gunicorn", "app:app", "--bind", "127.0.0.1:0",
                          "--workers", str(workers)], env)
        self.url = self.wait_for(_LISTENING.pattern).group(1)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # still booting (a busy machine can take a while)
            time.sleep(0.05)
        raise AssertionError("gunicorn never answered /healthz:\n" + self.text())

    def worker_pids(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of the arbiter)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]


class Worker(Process):
    """`python -m bot.worker`, the scale-out worker process."""

    def __init__(self, env: dict[str, str]):
        super().__init__([sys.executable, "-m", "bot.worker"], env)
        self.wait_for(r"worker .* started")
