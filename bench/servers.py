"""Servers the intake benchmarks start side by side on ports of their own: the bare Flask floor, the
bot under gunicorn, Probot; throwaway PostgreSQL databases and the App key (tests/harness, as the
tests have them); resident-memory readings from /proc."""

from __future__ import annotations

import http.client
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import databases
from tests.harness.keys import make_app_key
from tests.harness.processes import ROOT, children

BENCH = ROOT / "bench"
PROBOT_DIR = BENCH / "probot"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_private_key() -> str:
    """A fresh App key as GitHub hands it out (PKCS#1 PEM): tests/harness/keys.py's."""
    return make_app_key().pem


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None) -> tuple[int, bytes]:
    """One request on a new connection to 127.0.0.1:`port`: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- a quiet machine ---------------------------------------------------------------------------------

def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def wait_quiet(idle: float = 0.85, window: float = 0.5, timeout: float = 30.0) -> float:
    """Wait until the CPUs were at least `idle` idle over a `window`: what a server measured before left
    running (a backlog's follow-up jobs, PostgreSQL's background writers) must not land on the next one.
    Returns the seconds waited (`timeout` if it never got quiet)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        idle_before, total_before = _cpu_times()
        time.sleep(window)
        idle_after, total_after = _cpu_times()
        if total_after > total_before and (idle_after - idle_before) / (total_after - total_before) >= idle:
            break
    return round(time.monotonic() - started, 1)


# -- memory ----------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    """A process's resident set (VmRSS) in MB; 0.0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# -- servers ---------------------------------------------------------------------------------------

@dataclass
class Server:
    """A server process started from `argv`; `{port}` in argv and env becomes its port."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ready_path: str
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    database_url: str | None = None  # the bot's, for the stored-delivery count
    user: str | None = None  # run as this user (when started as root), with its own group only

    def start(self) -> None:
        argv = [part.replace("{port}", str(self.port)) for part in self.argv]
        env = {key: value.replace("{port}", str(self.port)) for key, value in self.env.items()}
        self.log = open(self.log_path, "wb")
        as_user = {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []} if self.user else {}
        self.proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, **as_user)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = http_request(self.port, "GET", self.ready_path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready; its output:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def pids(self) -> list[int]:
        return [self.proc.pid] + children(self.proc.pid)

    def rss_mb(self) -> float:
        """RSS of the server and its children together."""
        return sum(rss_mb(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()


def _path_env(tmp: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp)}


def bot_server(name: str, database_url: str, key: str, secret: str, tmp: Path, log_level: str = "warning") -> Server:
    """`gunicorn app:app -w 2` from the repository root, acknowledging only (BOT_INLINE_WORKERS=0)."""
    env = {
        **_path_env(tmp),
        "APP_ID": "1234",
        "PRIVATE_KEY": key,
        "WEBHOOK_SECRET": secret,
        "GITHUB_API_URL": "http://127.0.0.1:9",  # never called on the acknowledgement path
        "DATABASE_URL": database_url,
        "BOT_INLINE_WORKERS": "0",
        "LOG_LEVEL": log_level,
        "PORT": "{port}",
    }
    argv = [sys.executable, "-m", "gunicorn", "app:app", "--bind", "127.0.0.1:{port}", "-w", "2"]
    server = Server(name, argv, env, ROOT, "/healthz", tmp / f"{name}.log")
    server.database_url = database_url
    return server


def floor_server(secret: str, tmp: Path) -> Server:
    """bench/floor_app.py under gunicorn sync -w 2: verify, parse, 202, store nothing."""
    env = {**_path_env(tmp), "WEBHOOK_SECRET": secret}
    # Run from bench/ so gunicorn does not read the bot's gunicorn.conf.py.
    argv = [sys.executable, "-m", "gunicorn", "floor_app:app", "--bind", "127.0.0.1:{port}", "-w", "2",
            "--worker-class", "sync", "--log-level", "warning"]
    return Server("floor", argv, env, BENCH, "/healthz", tmp / "floor.log")


def probot_server(key: str, secret: str, tmp: Path, log_level: str = "warn", name: str = "probot") -> Server:
    """bench/probot/index.js on Probot's own server."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "APP_ID": "1234",
        "PRIVATE_KEY": key,
        "WEBHOOK_SECRET": secret,
        "HOST": "127.0.0.1",
        "PORT": "{port}",
        "LOG_LEVEL": log_level,
        "NODE_ENV": "production",
    }
    return Server(name, ["node", "index.js"], env, PROBOT_DIR, "/ping", tmp / f"{name}.log")


def probot_installed() -> bool:
    import shutil

    return (PROBOT_DIR / "node_modules" / "probot" / "package.json").is_file() and bool(shutil.which("node"))


# -- PostgreSQL ------------------------------------------------------------------------------------

def pg_create(prefix: str = "sb_bench_") -> tuple[str | None, str | None]:
    """A throwaway database: (url, None), or (None, why not). `pg_settings()` then has its settings."""
    try:
        url = databases.create_database(prefix, PG_ADMIN_URL)
    except (ImportError, RuntimeError) as exc:  # no psycopg, or no PostgreSQL here
        return None, str(exc)
    _SETTINGS.update(databases.as_admin(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', "
        "'wal_sync_method', 'server_version')", PG_ADMIN_URL))
    return url, None


_SETTINGS: dict[str, str] = {}


def pg_required() -> bool:
    """Under CI=true a missing PostgreSQL fails the benchmark (as it fails the tests); elsewhere it is a note."""
    return os.environ.get("CI") == "true"


def pg_settings() -> dict[str, str]:
    """The server's fsync/synchronous_commit/version, as read by the last pg_create()."""
    return dict(_SETTINGS)


def pg_drop(url: str) -> None:
    databases.drop_database(url, PG_ADMIN_URL)
