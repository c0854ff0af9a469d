"""Fault points for the fault-injection suite (tests/faults/): inert unless BOT_FAULTS_DIR is set.

Some failures only matter at one exact moment — the database dropping the connection between
the intake's INSERT and its COMMIT, a worker dying after a comment was posted but before its job
was marked done. Timing them from outside is flaky, so the code names those moments and a test
arms them: it creates the file `$BOT_FAULTS_DIR/<point>.<n>` containing an action, and the next
process to reach `<point>` removes the file and acts. Removal is atomic, so each armed file fires
exactly once across every process sharing the directory; arm a point twice to make its retry
fail too. Points: `outbox.write` (the intake's INSERT), `job.complete:<kind>` (a job of that kind
finished its work and is about to be marked done), `logs.summarise` (the summariser's child process,
bot/logs/child.py, before it reads the log). Unset, a point costs one attribute check.

Actions:
  kill_connection  terminate the PostgreSQL backend of the connection passed in, from another
                   connection, as a failover or an idle-timeout would; the caller's next
                   statement on it fails.
  crash            end this process at once with status 137, as SIGKILL would: no cleanup, no
                   lease released, nothing flushed.
  hang             never go on (sleep for an hour), as a pathological input would: only being
                   killed ends it.
"""

from __future__ import annotations

import os
import time

_DIR = os.environ.get("BOT_FAULTS_DIR") or None


def point(name: str, connection=None) -> None:
    """Act on a fault armed for `name`, if any. `connection` is the DB-API connection in use."""
    if _DIR is None:
        return
    action = _take(name)
    if action == "kill_connection":
        _kill(connection)
    elif action == "crash":
        os._exit(137)
    elif action == "hang":
        time.sleep(3600)
    elif action is not None:
        raise ValueError(f"unknown fault action {action!r} armed for {name!r}")


def _take(name: str) -> str | None:
    try:
        armed = sorted(f for f in os.listdir(_DIR) if f.rpartition(".")[0] == name)
    except FileNotFoundError:
        return None
    for filename in armed:
        path = os.path.join(_DIR, filename)
        try:
            with open(path) as f:
                action = f.read().strip()
            os.remove(path)  # whoever removes it owns the fault
        except FileNotFoundError:
            continue  # another process took it first
        return action
    return None


def _kill(connection) -> None:
    import psycopg

    driver = getattr(connection, "driver_connection", connection)
    with psycopg.connect(driver.info.dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (driver.info.backend_pid,))
