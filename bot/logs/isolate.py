"""Run a child process under a wall-clock budget no input can escape: at the budget it is killed.

A thread cannot stop Python code that holds the GIL (a regular expression on a pathological
input), and while such code runs its whole process stalls: gunicorn's heartbeat, the job lease's
heartbeat, every other job thread. A process can be killed from outside, and waiting for one
releases the GIL, so the parent stays responsive for the whole budget.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Sequence

STDERR_CHARS = 300  # of the child's last stderr line kept in a Crashed message


class Overrun(Exception):
    """The child ran past its budget and was killed (`pid` no longer exists)."""

    def __init__(self, message: str, pid: int):
        super().__init__(message)
        self.pid = pid


class Crashed(Exception):
    """The child ended without success: an exception, running out of memory, a signal."""


def run(argv: Sequence[str], budget: float, *, pass_fds: Sequence[int] = (), cwd: str | None = None) -> bytes:
    """Run `argv` with nothing on stdin; its stdout once it exits with status 0 within `budget` seconds.

    Raises Overrun when it is still running at the budget (it is killed and reaped first), and
    Crashed when it exits with another status. `pass_fds` are inherited; no other descriptor is.
    """
    # A fresh interpreter, not a fork: it inherits no threads, sockets or locks of the gunicorn
    # worker, and imports only what it needs (multiprocessing's spawn and forkserver would also
    # re-import the parent's __main__ in each child: the whole bot when it runs `-m bot.worker`).
    with subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, pass_fds=tuple(pass_fds), cwd=cwd) as child:
        try:
            out, err = child.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            # SIGKILL at once: the child holds nothing worth flushing, and SIGKILL cannot be ignored.
            child.kill()
            child.communicate()
            raise Overrun(f"still running after its budget of {budget:g} s; killed pid {child.pid}",
                          child.pid) from None
    if child.returncode != 0:
        raise Crashed(f"{_status(child.returncode)}: {_last_line(err)}")
    return out


def _status(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory, or its CPU limit)" if -code in (signal.SIGKILL, signal.SIGXCPU) else ""
        return f"killed by {name}{hint}"
    return f"exited with status {code}"


def _last_line(err: bytes) -> str:
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:STDERR_CHARS] if lines else "(nothing on stderr)"
