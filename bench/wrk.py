"""wrk as the load generator: one signed delivery per request (bench/wrk/deliver.lua) for the intake, or GETs
of a page (bench/wrk/get.lua)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk" / "deliver.lua"
GET_LUA = LUA.parent / "get.lua"  # GETs of a page, counting each status
WEBHOOK_PATH = "/api/github/webhooks"


@dataclass(frozen=True)
class Config:
    """One row of the intake tables: which server, and how wrk talks to it."""

    key: str      # row label
    server: str   # which Server
    mode: str     # close | keepalive
    ids: str = "unique"  # unique | duplicate


def installed() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(port: int, config: Config, concurrency: int, duration: float, body_file: Path, signature: str,
            prefix: str) -> dict:
    """Drive 127.0.0.1:`port` for `duration` seconds at `concurrency`; wrk's figures plus req/s and errors.

    Every request carries the delivery id `prefix-<thread>-<n>`, so the bot's database can be
    counted per run afterwards.
    """
    threads = min(2, concurrency)
    argv = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(duration))}s", "--latency",
            "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{port}{WEBHOOK_PATH}", "--",
            str(body_file), signature, prefix, config.mode, config.ids]
    result = _run(argv, duration, f"{config.key} c={concurrency}")
    result.update(prefix=prefix, concurrency=concurrency, threads=threads,
                  ok=result["requests"] - result["non_2xx_3xx"])
    return result


def get(url: str, headers: dict[str, str], connections: int, duration: float) -> dict:
    """GET `url` with `headers` over `connections` connections, each sending its next request when the last
    is answered (a closed loop), for `duration` whole seconds: wrk's figures, req/s, errors, and how many
    answers had each status (`statuses`, e.g. {"200": 812})."""
    argv = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(GET_LUA)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    return _run([*argv, url], duration, f"GET {url}")


def _run(argv: list[str], duration: float, what: str) -> dict:
    """Run wrk with one of our scripts; its JSON line, with req/s and the sum of its errors."""
    env = {**os.environ, "LUA_PATH": f"{LUA.parent}/?.lua;;"}  # the scripts' shared part: bench/wrk/figures.lua
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, env=env)
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed for {what}:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line[len("WRK_JSON "):])
    seconds = result["duration_us"] / 1e6
    result.update(rps=result["requests"] / seconds if seconds else 0.0,
                  errors=result["connect_errors"] + result["read_errors"] + result["write_errors"]
                  + result["timeouts"])
    return result


def version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0].split(" [")[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"
