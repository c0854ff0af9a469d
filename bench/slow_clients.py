"""Slow clients: what uploads trickling 1 byte/s do to `/healthz`, straight to gunicorn and behind nginx.

    .venv/bin/python -m bench.slow_clients [--smoke] [--window 60] [--out DIR]

The bot runs as `make run` starts it: gunicorn with the repository's gunicorn.conf.py (2 sync workers,
job threads inside them), SQLite, against the fake GitHub. K slow clients (K = 1, and K = the number
of workers) each POST to the webhook path announcing a 1 MB body and send one byte a second; when the
server drops one, it reconnects at once, as an attacker would. Meanwhile a prober GETs `/healthz`
every 0.5 s on a new connection with a 2 s timeout. The same runs again with nginx in front
(`proxy_request_buffering on`, nginx's default): nginx holds the slow bodies itself and hands gunicorn
only whole requests. Figures only: nothing here is asserted.
"""

from __future__ import annotations

import http.client
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import WEBHOOK_PATH, Stack, percentiles
from bench.servers import Server

TITLE = "Slow clients: uploads trickling 1 byte/s against `/healthz`, without and with nginx"
WINDOW_S = {False: 60.0, True: 5.0}  # the prober's window per cell; 60 s outlasts gunicorn's 30 s timeout
PROBE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 2.0
TRICKLE_EVERY_S = 1.0
ANNOUNCED = 1024 * 1024  # the Content-Length a slow client announces (under the bot's 25 MB limit)
CLIENT_BODY_TIMEOUT_S = 10

# A minimal production-like nginx, unprivileged: every path it writes is in its own temp dir.
NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream bot {{ server 127.0.0.1:{upstream} fail_timeout=0; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 25m;
        client_body_timeout {body_timeout}s;
        proxy_request_buffering on;
        location / {{
            proxy_pass http://bot;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_redirect off;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    """Debian installs nginx in /usr/sbin, which an unprivileged PATH may not hold."""
    return shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def nginx_version() -> str:
    out = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True)
    return (out.stderr or out.stdout).strip().split("/")[-1]


def nginx_required() -> bool:
    """Under CI=true `make bench-tools` has installed nginx, so a missing one is a failure; elsewhere a note."""
    return os.environ.get("CI") == "true"


def nginx_server(upstream: int) -> Server:
    """nginx in the foreground in a temp dir of its own, proxying to 127.0.0.1:`upstream`; as `nobody` when
    we are root, so it runs unprivileged wherever the bench runs."""
    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-nginx-"))
    user = "nobody" if os.geteuid() == 0 else None
    argv = [nginx_binary(), "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    server = Server("nginx", argv, {"PATH": "/usr/bin:/bin"}, tmp, "/healthz", tmp / "nginx.out", user=user)
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=server.port, upstream=upstream,
                                                      body_timeout=CLIENT_BODY_TIMEOUT_S))
    if user:
        entry = pwd.getpwnam(user)
        for path in (tmp, tmp / "nginx.conf"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return server


class SlowClient(threading.Thread):
    """Keeps one webhook upload open, one body byte a second; reconnects whenever the server drops it."""

    def __init__(self, port: int, number: int):
        super().__init__(daemon=True, name=f"slow-client-{number}")
        self.port, self.number = port, number
        self.stop = threading.Event()
        self.opened = 0
        self.dropped: list[dict] = []  # each connection the server ended: after how long, with what answer
        self.bytes_sent = 0

    def _head(self) -> bytes:
        return (f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "Content-Type: application/json\r\nX-GitHub-Event: issue_comment\r\n"
                f"X-GitHub-Delivery: slow-{self.number}-{self.opened}\r\nX-Hub-Signature-256: sha256={'0' * 64}\r\n"
                f"Content-Length: {ANNOUNCED}\r\n\r\n").encode()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                self.stop.wait(0.1)
                continue
            self.opened += 1
            started = time.monotonic()
            try:
                self._hold(sock)
            except OSError as exc:
                self.dropped.append({"after_s": round(time.monotonic() - started, 1), "answer": type(exc).__name__})
            finally:
                sock.close()

    def _hold(self, sock: socket.socket) -> None:
        sock.sendall(self._head())
        sock.settimeout(TRICKLE_EVERY_S)
        started = time.monotonic()
        while not self.stop.is_set():
            try:
                answer = sock.recv(200)  # the server answering or closing ends this upload
            except TimeoutError:
                sock.sendall(b" ")  # leading whitespace: still valid JSON, were it ever finished
                self.bytes_sent += 1
                continue
            first_line = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
            self.dropped.append({"after_s": round(time.monotonic() - started, 1), "answer": first_line})
            return


def probe(port: int) -> tuple[float | None, str]:
    """One GET /healthz on a new connection, PROBE_TIMEOUT_S at most: (milliseconds if 200, else None; why)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            return (time.perf_counter() - started) * 1000, "ok"
        return None, f"HTTP {response.status}"
    except OSError as exc:
        return None, type(exc).__name__
    finally:
        conn.close()


class Prober(threading.Thread):
    """A probe() every PROBE_EVERY_S until stopped, each in its own thread: a hung probe delays no other."""

    def __init__(self, port: int):
        super().__init__(daemon=True, name="healthz-prober")
        self.port = port
        self.stop = threading.Event()
        self.ok_ms: list[float] = []
        self.failed: list[str] = []

    def _one(self) -> None:
        ms, why = probe(self.port)
        if ms is None:
            self.failed.append(why)
        else:
            self.ok_ms.append(ms)

    def run(self) -> None:
        probes = []
        next_at = time.monotonic()
        while not self.stop.wait(max(0.0, next_at - time.monotonic())):
            probes.append(threading.Thread(target=self._one, daemon=True))
            probes[-1].start()
            next_at += PROBE_EVERY_S
        for thread in probes:
            thread.join()


def wait_healthy(port: int, timeout: float = 90.0) -> float:
    """Seconds until /healthz answers three times in a row (after a row, workers may be restarting)."""
    started = time.monotonic()
    streak = 0
    while streak < 3:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"/healthz on port {port} not answering {timeout:g} s after a row")
        streak = streak + 1 if probe(port)[0] is not None else 0
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


def cell(port: int, slow: int, window: float) -> dict:
    """`slow` slow clients against `port` while the prober runs for `window` seconds."""
    clients = [SlowClient(port, n) for n in range(slow)]
    for client in clients:
        client.start()
    time.sleep(1.0)  # the uploads are in before the first probe
    prober = Prober(port)
    prober.start()
    time.sleep(window)
    prober.stop.set()
    prober.join()
    for client in clients:
        client.stop.set()
    for client in clients:
        client.join(timeout=10)
    failures: dict[str, int] = {}
    for reason in prober.failed:
        failures[reason] = failures.get(reason, 0) + 1
    return {"slow_clients": slow, "window_s": window, "probes": len(prober.ok_ms) + len(prober.failed),
            "ok": len(prober.ok_ms), "failed": len(prober.failed), "failures": failures,
            "ok_ms": percentiles(prober.ok_ms),
            "uploads_opened": sum(c.opened for c in clients),
            "uploads_dropped": [d for c in clients for d in c.dropped],
            "bytes_trickled": sum(c.bytes_sent for c in clients)}


def measure(smoke: bool, window: float | None = None) -> dict:
    window = window or WINDOW_S[smoke]
    data: dict = {"window_s": window, "workers": 2, "cells": {}, "nginx": None}
    nginx = None
    try:
        with Stack() as stack:
            upstream = urlsplit(stack.web.url).port
            data["workers"] = len(stack.web.worker_pids())
            paths = {"no proxy": upstream}
            if nginx_binary() is None:
                data["nginx"] = {"error": "nginx is not installed (`make bench-tools` installs it with apt-get)"}
            else:
                nginx = nginx_server(upstream)
                nginx.start()
                nginx.wait_ready(timeout=20)
                data["nginx"] = {"version": nginx_version(), "client_body_timeout_s": CLIENT_BODY_TIMEOUT_S,
                                 "user": nginx.user or pwd.getpwuid(os.geteuid()).pw_name}
                paths["nginx"] = nginx.port
            for slow in sorted({1, data["workers"]}):
                for path, port in paths.items():
                    recovery = wait_healthy(upstream)
                    print(f"slow_clients: {path}, {slow} slow client(s), {window:g} s", flush=True)
                    data["cells"][f"{path}, K={slow}"] = dict(cell(port, slow, window), path=path,
                                                              healthy_before_s=recovery)
            if nginx is not None:
                data["nginx"]["error_log"] = (nginx.cwd / "error.log").read_text(errors="replace")[-2000:]
    finally:
        if nginx is not None:
            nginx.stop()
            shutil.rmtree(nginx.cwd, ignore_errors=True)
    return data


def render(data: dict) -> str:
    lines = [f"The bot as `make run` starts it ({data['workers']} sync workers, SQLite). K slow clients each POST to "
             f"`{WEBHOOK_PATH}` announcing a {ANNOUNCED // 1024} KB body and send 1 byte/s, reconnecting whenever "
             f"the server drops them; a prober GETs `/healthz` every {PROBE_EVERY_S:g} s on a new connection with a "
             f"{PROBE_TIMEOUT_S:g} s timeout, for {data['window_s']:g} s per row. Latency: successful probes only, "
             "connect to answer read. gunicorn's `timeout` (30 s) kills a worker stuck in a body read.", ""]
    nginx = data["nginx"] or {}
    if "error" in nginx:
        lines += [f"**nginx not measured: {nginx['error']}.** Only the rows without a proxy are below.", ""]
    else:
        lines += [f"nginx {nginx['version']} in front (run as `{nginx['user']}`, `proxy_request_buffering on`, "
                  f"`client_body_timeout {nginx['client_body_timeout_s']}s`, `client_max_body_size 25m`): it reads "
                  "each body whole before it opens a connection to gunicorn.", ""]
    lines += ["| K | path | /healthz ok | failed | p50 ms | p99 ms | max ms | uploads opened | dropped by the server |",
              "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for found in data["cells"].values():
        stats = {k: v if v is not None else "—" for k, v in found["ok_ms"].items()}
        dropped = found["uploads_dropped"]
        if dropped:
            after = sorted(d["after_s"] for d in dropped)
            answers = sorted({d["answer"] for d in dropped})
            dropped_text = f"{len(dropped)} (after {after[0]:g}–{after[-1]:g} s: {', '.join(answers)})"
        else:
            dropped_text = "0"
        lines.append(f"| {found['slow_clients']} | {found['path']} | {found['ok']}/{found['probes']} | "
                     f"{found['failed']} | {stats['p50']} | {stats['p99']} | {stats['max']} | "
                     f"{found['uploads_opened']} | {dropped_text} |")
    reasons = {key: found["failures"] for key, found in data["cells"].items() if found["failures"]}
    if reasons:
        lines += ["", "Failed probes: " + "; ".join(
            f"{key}: " + ", ".join(f"{n} × {why}" for why, n in found.items()) for key, found in reasons.items()) + "."]
    return "\n".join(lines) + "\n"


def run(smoke: bool, window: float | None = None) -> dict:
    data = measure(smoke, window)
    failures, targets = [], []
    nginx = data["nginx"] or {}
    if "error" in nginx:
        print(f"slow_clients: NGINX NOT MEASURED: {nginx['error']}", flush=True)
        if nginx_required():
            failures.append(f"slow_clients: {nginx['error']} (CI=true)")
    key = f"nginx, K={data['workers']}"
    if key in data["cells"]:
        found = data["cells"][key]
        targets.append({"target": f"behind nginx, {data['workers']} slow uploads (one per worker): no /healthz "
                                  "probe fails", "figure": f"{found['failed']} of {found['probes']} failed",
                        "met": found["failed"] == 0})
    for name, found in data["cells"].items():
        if found["probes"] == 0:
            failures.append(f"slow_clients: {name}: the prober sent nothing")
    return {"title": TITLE, "markdown": render(data), "data": data, "targets": targets, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench import report

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="5 s per row; asserts no timings")
    parser.add_argument("--window", type=float, help="seconds of probing per row (default 60, smoke 5)")
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    args = parser.parse_args(argv)
    return report.run_alone("slow_clients", lambda: run(args.smoke, args.window), smoke=args.smoke, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
