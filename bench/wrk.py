"""wrk as the intake's load generator: one signed delivery per request (bench/wrk/deliver.lua)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk" / "deliver.lua"
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
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed for {config.key} c={concurrency}:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line[len("WRK_JSON "):])
    seconds = result["duration_us"] / 1e6
    result.update(prefix=prefix, concurrency=concurrency, threads=threads,
                  ok=result["requests"] - result["non_2xx_3xx"],
                  rps=result["requests"] / seconds if seconds else 0.0,
                  errors=result["connect_errors"] + result["read_errors"] + result["write_errors"]
                  + result["timeouts"])
    return result


def version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0].split(" [")[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"
