"""Background intake load: signed deliveries POSTed at a steady rate, from a process of its own.

    with Background(url, bodies, rate=100) as load: ...    # load.result after the block

The bodies are signed once (the delivery id is outside the signature) and each gets a fresh
X-GitHub-Delivery; each delivery opens its own connection, as GitHub's do. Runs in a separate
process so it shares no GIL with the fake GitHub the bot is talking to.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


class Background:
    """Start the load on entering, stop it on leaving; `result` then holds what was sent."""

    def __init__(self, url: str, bodies: list[tuple[str, dict]], secret: str, rate: float):
        from tests.fakegithub import payloads

        self.spec = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        signed = []
        for event, payload in bodies:
            body = json.dumps(payload)
            signed.append({"event": event, "body": body, "signature": payloads.sign(body.encode(), secret)})
        json.dump({"url": url, "rate": rate, "bodies": signed}, self.spec)
        self.spec.close()
        self.result: dict = {}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Background":
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.background", self.spec.name], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        Path(self.spec.name).unlink(missing_ok=True)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        self.result = json.loads(lines[-1]) if lines else {"error": f"load generator exited {self.proc.returncode}"}


def _send(host: str, port: int, path: str, item: dict) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", path, body=item["body"].encode(), headers={
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench-background",
            "X-GitHub-Event": item["event"], "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": item["signature"]})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    url = urlsplit(spec["url"])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    counts = {"sent": 0, "ok": 0, "non_2xx": 0, "errors": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def one(item: dict) -> None:
        try:
            status, seconds = _send(url.hostname, url.port, url.path, item)
        except OSError:
            with lock:
                counts["errors"] += 1
            return
        with lock:
            counts["ok" if 200 <= status < 300 else "non_2xx"] += 1
            latencies.append(seconds)

    interval = 1.0 / spec["rate"]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        n = 0
        while not stop.is_set():
            due = started + n * interval
            delay = due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            pool.submit(one, spec["bodies"][n % len(spec["bodies"])])
            n += 1
        counts["sent"] = n
    elapsed = time.monotonic() - started
    latencies.sort()
    print(json.dumps({**counts, "seconds": round(elapsed, 2), "rate_target": spec["rate"],
                      "rate_sent": round(n / elapsed, 1) if elapsed else 0.0,
                      "ack_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
                      "ack_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None}),
          flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="send signed deliveries at a steady rate until SIGTERM")
    parser.add_argument("spec", help="JSON file: url, rate, bodies [{event, body, signature}]")
    sys.exit(main(parser.parse_args().spec))
