"""The bot's real processes: gunicorn serving app:app, and `python -m bot.worker` (tests/harness/stack.py
puts them together).

Every server binds to port 0; the port is read from gunicorn's own "Listening at" line, so
parallel test runs on one machine never collide.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).parents[2]
_LISTENING = re.compile(r"Listening at: (http://[\d.]+:\d+)")


class Process:
    """A child process whose combined output is collected for assertions and failure reports; it runs
    in `root` (the repository; a benchmark may give another checkout of it, e.g. an older commit's)."""

    def __init__(self, argv: list[str], env: dict[str, str], root: Path = ROOT):
        self.output: list[str] = []
        self._lines = threading.Condition()
        self.proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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

    @contextlib.contextmanager
    def stopped_on_failure(self):
        """Stop the process if waiting for it fails: a constructor's exception would leave it running."""
        try:
            yield
        except BaseException:
            self.stop()
            raise

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


def children(pid: int) -> list[int]:
    """The pids of a process's children (gunicorn's workers, for its arbiter; a log summariser); [] once it is gone.

    Read from /proc rather than `ps`, so a benchmark can sample them every few milliseconds.
    """
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass  # the thread (or the process) ended meanwhile
    return found


def bot_env(**settings: str) -> dict[str, str]:
    """The environment of a bot process: this interpreter's PATH plus the given settings only."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "LOG_FORMAT": "text"}
    env.update({key: str(value) for key, value in settings.items()})
    return env


class Gunicorn(Process):
    """`gunicorn app:app` with the repository's gunicorn.conf.py, on 127.0.0.1:0."""

    def __init__(self, env: dict[str, str], workers: int = 2, root: Path = ROOT):
        super().__init__([sys.executable, "-m", "gunicorn", "app:app", "--bind", "127.0.0.1:0",
                          "--workers", str(workers)], env, root)
        with self.stopped_on_failure():
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
        return children(self.proc.pid)


class Worker(Process):
    """`python -m bot.worker`, the scale-out worker process."""

    def __init__(self, env: dict[str, str], root: Path = ROOT):
        super().__init__([sys.executable, "-m", "bot.worker"], env, root)
        with self.stopped_on_failure():
            self.wait_for(r"worker .* started")
