"""SQLite writers take turns on a file lock the kernel hands over at once (bot/db/write_lock.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from bot.db import make_engine
from bot.db.write_lock import NestedWrite


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (n INTEGER)"))
    yield engine
    engine.dispose()


def _rows(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT n FROM log ORDER BY rowid")).scalars())


def test_a_second_writer_waits_for_the_first_to_commit(engine):
    holding, order = threading.Event(), []

    def first():
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log VALUES (1)"))
            holding.set()
            time.sleep(0.2)
            order.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with engine.begin() as conn:
        order.append("second begins")
        conn.execute(text("INSERT INTO log VALUES (2)"))
    thread.join(5)
    assert order == ["first commits", "second begins"]
    assert _rows(engine) == [1, 2]


def test_a_rolled_back_or_failed_transaction_lets_the_lock_go(engine):
    with pytest.raises(ZeroDivisionError):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log VALUES (1)"))
            1 / 0
    done = threading.Event()

    def write():
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log VALUES (2)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "the lock was kept after a rollback"
    assert _rows(engine) == [2]


def test_a_nested_write_in_one_thread_fails_at_once_instead_of_waiting_for_itself(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO log VALUES (1)"))
        started = time.monotonic()
        with pytest.raises(NestedWrite):
            with engine.begin() as other:
                other.execute(text("INSERT INTO log VALUES (2)"))
        assert time.monotonic() - started < 5  # not SQLite's 30 s busy timeout
    assert _rows(engine) == [1]


HOLD_AND_DIE = """
import fcntl, os, pathlib, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(0.3)
pathlib.Path(sys.argv[2]).touch()
os._exit(9)  # dies holding it: the kernel lets go
"""


def test_a_writer_in_another_process_is_waited_for_and_a_dead_one_lets_go(engine, tmp_path):
    dying = tmp_path / "dying"
    child = subprocess.Popen([sys.executable, "-c", HOLD_AND_DIE, str(tmp_path / "bot.db.write-lock"), str(dying)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "holding"
    with engine.begin() as conn:
        assert dying.exists(), "began while another process held the lock"
        conn.execute(text("INSERT INTO log VALUES (1)"))
    assert child.wait(5) == 9
    assert _rows(engine) == [1]
