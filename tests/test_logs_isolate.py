"""A child process on a wall-clock budget: its output, its failures, and its end at the budget."""

import os
import sys
import threading
import time

import pytest

from bot.logs.isolate import Crashed, Overrun, run

# Catastrophic backtracking: re holds the GIL for the whole match, which would take years.
STUCK_IN_A_REGEX = "import re; re.match(r'(a|aa)+$', 'a' * 200 + 'b')"


def test_the_childs_output_is_returned():
    assert run([sys.executable, "-c", "print('hello')"], 10) == b"hello\n"


def test_a_child_holding_the_gil_is_killed_at_the_budget_while_the_parent_keeps_running():
    ticks = []
    stop = threading.Event()

    def heartbeat():  # what gunicorn's heartbeat and the job lease's do meanwhile
        while not stop.wait(0.05):
            ticks.append(time.monotonic())

    beating = threading.Thread(target=heartbeat)
    beating.start()
    started = time.monotonic()
    try:
        with pytest.raises(Overrun) as info:
            run([sys.executable, "-c", STUCK_IN_A_REGEX], 1.0)
    finally:
        stop.set()
        beating.join()

    took = time.monotonic() - started
    assert 1.0 <= took < 2.0
    with pytest.raises(ProcessLookupError):
        os.kill(info.value.pid, 0)  # killed and reaped
    gaps = [b - a for a, b in zip([started, *ticks], ticks)]
    assert len(ticks) >= 15 and max(gaps) < 0.5, "the parent's threads ran throughout"


@pytest.mark.parametrize("code, message", [
    ("raise MemoryError", "exited with status 1: MemoryError"),
    ("import os; os.kill(os.getpid(), 9)", "killed by SIGKILL (out of memory, or its CPU limit): (nothing on stderr)"),
    ("import sys; sys.exit(3)", "exited with status 3: (nothing on stderr)"),
])
def test_a_child_that_fails_is_reported_with_how(code, message):
    with pytest.raises(Crashed) as info:
        run([sys.executable, "-c", code], 10)
    assert str(info.value) == message


def test_only_the_descriptors_passed_are_inherited(tmp_path):
    with open(tmp_path / "passed", "w") as passed, open(tmp_path / "kept", "w") as kept:
        code = f"import os; os.fstat({passed.fileno()}); os.fstat({kept.fileno()})"
        with pytest.raises(Crashed, match="Bad file descriptor"):
            run([sys.executable, "-c", code], 10, pass_fds=[passed.fileno()])
        run([sys.executable, "-c", code.rsplit(";", 1)[0]], 10, pass_fds=[passed.fileno()])
