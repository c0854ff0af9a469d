"""Sends a bench/mixed.py plan of deliveries from a child process, so the load generator and the
fake GitHub do not share a GIL; one connection per delivery, as GitHub does."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench.mixed import WEBHOOK_PATH, Plan


class Sender:
    """Sends a plan from a child process: `concurrency` at a time, as fast as answered or at `rate`/s.

    Each result: (delivery id, event, HTTP status or 0, answered "duplicate", seconds from connect
    to the whole answer, error or "", seconds since the first send).
    """

    def __init__(self, url: str, p: Plan, *, concurrency: int, rate: float | None = None):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_send_all, args=(child, url, p.items, p.bodies, concurrency, rate),
                                   daemon=True)
        self.process.start()
        child.close()
        self.results: list[tuple] | None = None
        self.elapsed = 0.0

    def wait(self, timeout: float) -> bool:
        """True once the child reported (the results are then in `results`); raises if it died."""
        deadline = time.monotonic() + timeout
        while self.results is None and time.monotonic() < deadline:
            if self._conn.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
                self.results, self.elapsed = self._conn.recv()
                self.process.join(30)
            elif not self.process.is_alive():
                raise RuntimeError(f"the load generator died (exit code {self.process.exitcode})")
        return self.results is not None


def _send_all(conn, url: str, items: list, bodies: dict, concurrency: int, rate: float | None) -> None:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    t0 = time.perf_counter()

    def one(item):
        guid, event, key = item
        body, signed = bodies[key]
        headers = {**signed, "X-GitHub-Delivery": guid}
        started = time.perf_counter()
        status, duplicate, error = 0, False, ""
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request("POST", WEBHOOK_PATH, body, headers)
            response = connection.getresponse()
            answer = response.read()
            status = response.status
            duplicate = status == 202 and json.loads(answer).get("duplicate") is True
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        return guid, event, status, duplicate, time.perf_counter() - started, error, started - t0

    with ThreadPoolExecutor(concurrency) as pool:
        if rate is None:
            results = list(pool.map(one, items))
        else:
            futures = []
            for i, item in enumerate(items):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(one, item))
            results = [f.result() for f in futures]
    conn.send((results, time.perf_counter() - t0))
    conn.close()
