"""Intake benchmark: how fast does a webhook delivery get a durable acknowledgement?

    .venv/bin/python -m bench.intake            # the full run (`make bench`), ~6 minutes
    .venv/bin/python -m bench.intake --smoke    # tiny counts, asserts no timings (`make bench-smoke`)

Starts, side by side, and keeps running for the whole benchmark:

- floor       a bare Flask app under gunicorn (sync, -w 2) that verifies the HMAC, parses the JSON, answers 202
- bot-sqlite  session-bot (`gunicorn app:app`, sync, -w 2) on SQLite in WAL with synchronous=NORMAL
- bot-pg      session-bot on PostgreSQL with its defaults (fsync, synchronous_commit on), a throwaway database
- probot      Probot 14.3.2 with one `issue_comment.created` handler, on Probot's own server

The bot runs with BOT_INLINE_WORKERS=0, so what is measured is the acknowledgement alone: the delivery
and its job stored in one transaction, then 202. Load comes from wrk (a separate process, on the same
cores) with bench/wrk/deliver.lua: a real ~13 KB `issue_comment.created` payload with an
`installation`, signed once, a fresh X-GitHub-Delivery per request. Every configuration runs at each
concurrency once per round, rounds interleaved, so machine noise hits all alike; the figures reported
are the medians over rounds. Gunicorn's sync workers close every connection; Probot is measured both
with keep-alive and with `Connection: close` (GitHub opens a connection per delivery).

Afterwards the bot's databases are counted: every 2xx wrk saw must be a stored delivery with a job.
Results go to bench/results/latest.md and latest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "wrk" / "deliver.lua"
PROBOT_DIR = BENCH / "probot"
WEBHOOK_PATH = "/api/github/webhooks"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-" + secrets.token_hex(8)
INSTALLATION_ID = 4242001

sys.path.insert(0, str(ROOT))


# -- the payload ---------------------------------------------------------------------------------

def make_payload(directory: Path) -> tuple[Path, str, int]:
    """GitHub's own issue_comment.created example with an installation: (body file, signature, size)."""
    from tests.fakegithub.payloads import example, sign, with_installation

    payload = with_installation(example("issue_comment", "created"), INSTALLATION_ID)
    body = json.dumps(payload).encode()
    path = directory / "issue_comment.json"
    path.write_bytes(body)
    return path, sign(body, SECRET), len(body)


def make_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


# -- servers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ready_path: str
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    database_url: str | None = None  # the bot's, for the stored-delivery count

    def start(self) -> None:
        argv = [part.replace("{port}", str(self.port)) for part in self.argv]
        env = {key: value.replace("{port}", str(self.port)) for key, value in self.env.items()}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

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
        raise SystemExit(f"{self.name} did not become ready; its output:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [self.proc.pid] + [int(pid) for pid in out.stdout.split()]

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

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


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def bot_server(name: str, database_url: str, key: str, tmp: Path, log_level: str = "warning") -> Server:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp),
        "APP_ID": "1234",
        "PRIVATE_KEY": key,
        "WEBHOOK_SECRET": SECRET,
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


def floor_server(tmp: Path) -> Server:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp), "WEBHOOK_SECRET": SECRET}
    # Run from bench/ so gunicorn does not read the bot's gunicorn.conf.py.
    argv = [sys.executable, "-m", "gunicorn", "floor_app:app", "--bind", "127.0.0.1:{port}", "-w", "2",
            "--worker-class", "sync", "--log-level", "warning"]
    return Server("floor", argv, env, BENCH, "/healthz", tmp / "floor.log")


def probot_server(key: str, tmp: Path, log_level: str = "warn", name: str = "probot") -> Server:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "APP_ID": "1234",
        "PRIVATE_KEY": key,
        "WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "PORT": "{port}",
        "LOG_LEVEL": log_level,
        "NODE_ENV": "production",
    }
    return Server(name, ["node", "index.js"], env, PROBOT_DIR, "/ping", tmp / f"{name}.log")


# -- PostgreSQL ----------------------------------------------------------------------------------

def pg_create() -> tuple[str | None, str | None]:
    """A throwaway database: (url, None), or (None, why not)."""
    try:
        import psycopg
    except ImportError as exc:
        return None, f"psycopg missing: {exc}"
    name = "sb_bench_" + secrets.token_hex(4)
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            settings = dict(conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', "
                "'wal_sync_method', 'server_version')").fetchall())
    except Exception as exc:  # noqa: BLE001 -- any failure means: no PostgreSQL here
        return None, f"PostgreSQL at {PG_ADMIN_URL.split('@')[-1]} unavailable: {str(exc).strip().splitlines()[0]}"
    pg_create.settings = settings
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, None


def pg_drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


# -- load ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    key: str      # row label
    server: str   # which Server
    mode: str     # close | keepalive
    ids: str = "unique"  # unique | duplicate


def run_wrk(server: Server, config: Config, concurrency: int, duration: float, body_file: Path,
            signature: str, prefix: str) -> dict:
    threads = min(2, concurrency)
    argv = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(duration))}s", "--latency",
            "--timeout", "10s", "-s", str(LUA), f"http://127.0.0.1:{server.port}{WEBHOOK_PATH}", "--",
            str(body_file), signature, prefix, config.mode, config.ids]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed for {config.key} c={concurrency}:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line[len("WRK_JSON "):])
    seconds = result["duration_us"] / 1e6
    result.update(prefix=prefix, concurrency=concurrency, threads=threads,
                  ok=result["requests"] - result["non_2xx_3xx"],
                  rps=result["requests"] / seconds if seconds else 0.0,
                  errors=result["connect_errors"] + result["read_errors"] + result["write_errors"]
                  + result["timeouts"])
    return result


def check_one_delivery(server: Server, body_file: Path, signature: str) -> int:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issue_comment",
               "X-GitHub-Delivery": f"check-{server.name}-{secrets.token_hex(4)}", "X-Hub-Signature-256": signature}
    status, answer = http_request(server.port, "POST", WEBHOOK_PATH, body_file.read_bytes(), headers)
    if not 200 <= status < 300:
        raise SystemExit(f"{server.name} answered {status} {answer[:200]!r} to a signed delivery:\n{server.output()}")
    return status


# -- counting what the bot stored ----------------------------------------------------------------

def stored_by_prefix(database_url: str, prefixes: list[str]) -> dict[str, dict[str, int]]:
    """For each run's prefix: deliveries stored, and how many of them have their job."""
    from sqlalchemy import create_engine, text

    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)
    counts = {}
    try:
        with engine.connect() as conn:
            for prefix in prefixes:
                row = conn.execute(text(
                    "SELECT count(DISTINCT d.id), count(j.id) FROM deliveries d LEFT JOIN jobs j "
                    "ON j.delivery_id = d.id AND j.kind = 'delivery' WHERE d.guid LIKE :p"),
                    {"p": prefix + "-%"}).one()
                counts[prefix] = {"stored": row[0], "with_job": row[1]}
    finally:
        engine.dispose()
    return counts


# -- the run -------------------------------------------------------------------------------------

def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts for CI; asserts no timings")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 5, smoke 1)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, smoke 1)")
    parser.add_argument("--concurrency", default=None, help="comma-separated (default 1,8,32; smoke 1,8)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.md/latest.json go")
    parser.add_argument("--no-extras", action="store_true", help="skip the duplicate-id and INFO-logging runs")
    args = parser.parse_args(argv)
    duration = args.duration or (1 if args.smoke else 5)
    rounds = args.rounds or (1 if args.smoke else 3)
    levels = [int(c) for c in (args.concurrency or ("1,8" if args.smoke else "1,8,32")).split(",")]
    extras = not args.no_extras

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk; `make bench` does it)")
    probot_ready = (PROBOT_DIR / "node_modules" / "probot" / "package.json").is_file() and shutil.which("node")
    notes: list[str] = []

    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-intake-"))
    body_file, signature, body_size = make_payload(tmp)
    key = make_private_key()
    pg_url, pg_skip = pg_create()
    if pg_skip:
        notes.append(f"bot-pg skipped: {pg_skip}")
    servers: dict[str, Server] = {
        "floor": floor_server(tmp),
        "bot-sqlite": bot_server("bot-sqlite", f"sqlite:///{tmp}/bench.sqlite3", key, tmp),
    }
    if pg_url:
        servers["bot-pg"] = bot_server("bot-pg", pg_url, key, tmp)
    if probot_ready:
        servers["probot"] = probot_server(key, tmp)
    else:
        notes.append("probot skipped: run `npm ci` in bench/probot (`make bench` does)")
    if extras:
        servers["bot-sqlite-info"] = bot_server("bot-sqlite-info", f"sqlite:///{tmp}/bench-info.sqlite3", key, tmp,
                                                log_level="info")
        if probot_ready:
            servers["probot-info"] = probot_server(key, tmp, log_level="info", name="probot-info")

    configs = [Config("floor", "floor", "close"), Config("bot-sqlite", "bot-sqlite", "close")]
    if "bot-pg" in servers:
        configs.append(Config("bot-pg", "bot-pg", "close"))
    if "probot" in servers:
        configs += [Config("probot-close", "probot", "close"), Config("probot-keepalive", "probot", "keepalive")]
    extra_configs = []
    if extras:
        extra_configs = [Config("bot-sqlite-info-log", "bot-sqlite-info", "close"),
                         Config("bot-sqlite-duplicate", "bot-sqlite", "close", "duplicate")]
        if "probot-info" in servers:
            extra_configs.append(Config("probot-close-info-log", "probot-info", "close"))
        if "bot-pg" in servers:
            extra_configs.append(Config("bot-pg-duplicate", "bot-pg", "close", "duplicate"))
    extra_level = 8 if 8 in levels else levels[-1]

    runs: list[dict] = []
    rss: dict[str, dict[str, float]] = {}
    started = time.monotonic()
    tag = secrets.token_hex(3)
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
            check_one_delivery(server, body_file, signature)
        for server in servers.values():
            rss.setdefault(server.name, {})["idle_mb"] = round(server.rss_mb(), 1)
        # Warm every server (imports, pools, Node's JIT) before anything is recorded.
        for config in configs:
            run_wrk(servers[config.server], config, 8, 1, body_file, signature,
                    f"w{tag}-{config.key}")
        print(f"servers up, payload {body_size} bytes; {rounds} round(s) × {len(levels)} concurrency levels × "
              f"{len(configs)} configurations × {duration:g} s", flush=True)
        for round_number in range(rounds):
            for concurrency in levels:
                # Rotate the order each round, so no configuration always follows the same one.
                shift = round_number % len(configs)
                order = configs[shift:] + configs[:shift]
                if extras and concurrency == extra_level:
                    order = order + extra_configs
                for config in order:
                    prefix = f"r{tag}-{round_number}-{config.key}-c{concurrency}"
                    result = run_wrk(servers[config.server], config, concurrency, duration, body_file, signature,
                                     prefix)
                    result.update(config=config.key, server=config.server, mode=config.mode, ids=config.ids,
                                  round=round_number)
                    runs.append(result)
                    if concurrency >= extra_level:
                        peak = rss.setdefault(config.server, {})
                        peak["under_load_mb"] = max(peak.get("under_load_mb", 0), round(servers[config.server].rss_mb(), 1))
                    print(f"  round {round_number + 1} c={concurrency:<2} {config.key:<22} {result['rps']:8.0f} req/s  "
                          f"p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                          f"non-2xx {result['non_2xx_3xx']}  errors {result['errors']}", flush=True)
        # Zero lost: every 2xx must be a stored delivery with its job. wrk stops with up to one request
        # per connection in flight, which the server may have stored without wrk counting the answer.
        accounting = {}
        for name in ("bot-sqlite", "bot-pg", "bot-sqlite-info"):
            if name not in servers:
                continue
            mine = [run for run in runs if run["server"] == name and run["ids"] == "unique"]
            counted = stored_by_prefix(servers[name].database_url, [run["prefix"] for run in mine])
            for run in mine:
                stored = counted[run["prefix"]]
                run.update(stored=stored["stored"], with_job=stored["with_job"],
                           lost=max(0, run["ok"] - stored["stored"]),
                           in_flight_at_stop=stored["stored"] - run["ok"])
            accounting[name] = {
                "acknowledged_2xx": sum(run["ok"] for run in mine),
                "stored": sum(run["stored"] for run in mine),
                "stored_without_job": sum(run["stored"] - run["with_job"] for run in mine),
                "lost": sum(run["lost"] for run in mine),
                "non_2xx": sum(run["non_2xx_3xx"] for run in mine),
                "socket_errors": sum(run["errors"] for run in mine),
                "unacknowledged_but_stored_max_per_run": max((run["in_flight_at_stop"] for run in mine), default=0),
                "unacknowledged_but_stored_bound_ok": all(0 <= run["in_flight_at_stop"] <= run["concurrency"]
                                                          for run in mine),
            }
    finally:
        for server in servers.values():
            server.stop()
        if pg_url:
            try:
                pg_drop(pg_url)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"could not drop {pg_url.rsplit('/', 1)[1]}: {exc}")
    # Where the time goes, in-process, after the servers are gone (so nothing competes for the CPUs).
    profile_md, profile_json = run_profile(100 if args.smoke else 1500, pg_ok=pg_url is not None)
    elapsed = time.monotonic() - started

    report = summarise(runs, configs + extra_configs, levels, extra_level)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "smoke": args.smoke,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release(),
                    "node": _version(["node", "--version"]), "wrk": _version(["wrk", "--version"]).split(" [")[0]},
        "payload_bytes": body_size,
        "duration_s": duration, "rounds": rounds, "concurrency": levels, "elapsed_s": round(elapsed, 1),
        "postgresql": getattr(pg_create, "settings", None),
        "notes": notes,
    }
    document = {"meta": meta, "summary": report, "accounting": accounting, "rss": rss, "profile_us": profile_json,
                "runs": runs, "profile": profile_md}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(
        json.dumps({k: v for k, v in document.items() if k != "profile"}, indent=1) + "\n")
    (args.out / "latest.md").write_text(render_markdown(document))
    shutil.rmtree(tmp, ignore_errors=True)
    print((args.out / "latest.md").read_text())
    lost = sum(a["lost"] for a in accounting.values()) + sum(a["stored_without_job"] for a in accounting.values())
    if lost:
        print(f"LOST DELIVERIES: {lost}", file=sys.stderr)
        return 1
    return 0


def run_profile(n: int, *, pg_ok: bool) -> tuple[str, list]:
    """bench.intake_profile in a fresh process: (its markdown section, its figures)."""
    argv = [sys.executable, "-m", "bench.intake_profile", "-n", str(n), "--database", "both" if pg_ok else "sqlite",
            "--json-last"]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return f"## In-process profile failed\n\n```\n{out.stderr[-2000:]}\n```\n", []
    markdown, _, figures = out.stdout.partition("\nPROFILE_JSON ")
    return markdown.strip() + "\n", json.loads(figures)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def summarise(runs: list[dict], configs: list[Config], levels: list[int], extra_level: int) -> list[dict]:
    """Medians over rounds per (configuration, concurrency), with ratios to the floor and to Probot."""
    rows = []
    for concurrency in levels:
        cell = {}
        for config in configs:
            mine = [run for run in runs if run["config"] == config.key and run["concurrency"] == concurrency]
            if not mine:
                continue
            cell[config.key] = {
                "config": config.key, "concurrency": concurrency, "mode": config.mode, "ids": config.ids,
                "rounds": len(mine),
                "rps": round(median([run["rps"] for run in mine]), 1),
                "rps_min": round(min(run["rps"] for run in mine), 1),
                "rps_max": round(max(run["rps"] for run in mine), 1),
                "p50_ms": round(median([run["p50_us"] for run in mine]) / 1000, 2),
                "p99_ms": round(median([run["p99_us"] for run in mine]) / 1000, 2),
                "p99_ms_worst": round(max(run["p99_us"] for run in mine) / 1000, 2),
                "non_2xx": sum(run["non_2xx_3xx"] for run in mine),
                "socket_errors": sum(run["errors"] for run in mine),
            }
        for row in cell.values():
            for reference in ("floor", "probot-close", "probot-keepalive"):
                if reference in cell and cell[reference]["rps"]:
                    row[f"vs_{reference.replace('-', '_')}"] = round(row["rps"] / cell[reference]["rps"], 3)
            rows.append(row)
    return rows


TARGETS = [
    # (label, configuration, concurrency, check(row, rows) -> (met, figure))
    ("durable ack on SQLite ≥ 85% of the floor (c=8)", "bot-sqlite", 8,
     lambda r: (r.get("vs_floor", 0) >= 0.85, f"{r.get('vs_floor', 0):.0%} of the floor")),
    ("durable ack on PostgreSQL ≥ 50% of the floor (c=8)", "bot-pg", 8,
     lambda r: (r.get("vs_floor", 0) >= 0.50, f"{r.get('vs_floor', 0):.0%} of the floor")),
    ("durable ack on SQLite ≥ Probot, connection per delivery (c=8)", "bot-sqlite", 8,
     lambda r: (r.get("vs_probot_close", 0) >= 1.0, f"{r.get('vs_probot_close', 0):.2f}× Probot")),
    ("durable ack on PostgreSQL ≥ Probot, connection per delivery (c=8)", "bot-pg", 8,
     lambda r: (r.get("vs_probot_close", 0) >= 1.0, f"{r.get('vs_probot_close', 0):.2f}× Probot")),
    ("SQLite p99 < 20 ms (c=8)", "bot-sqlite", 8, lambda r: (r["p99_ms"] < 20, f"p99 {r['p99_ms']} ms")),
    ("PostgreSQL p99 < 20 ms (c=8)", "bot-pg", 8, lambda r: (r["p99_ms"] < 20, f"p99 {r['p99_ms']} ms")),
    ("SQLite p99 < 50 ms (c=32)", "bot-sqlite", 32, lambda r: (r["p99_ms"] < 50, f"p99 {r['p99_ms']} ms")),
    ("PostgreSQL p99 < 50 ms (c=32)", "bot-pg", 32, lambda r: (r["p99_ms"] < 50, f"p99 {r['p99_ms']} ms")),
]


def render_markdown(document: dict) -> str:
    meta, rows = document["meta"], document["summary"]
    by = {(row["config"], row["concurrency"]): row for row in rows}
    lines = [
        "# Intake benchmark" + (" (smoke: tiny counts, timings mean nothing)" if meta["smoke"] else ""),
        "",
        f"{meta['when']} · {meta['machine']['cpus']} CPUs shared by servers and wrk · Python "
        f"{meta['machine']['python']} · Node {meta['machine']['node']} · {meta['machine']['wrk']} · "
        f"payload {meta['payload_bytes']} bytes (`issue_comment.created` + `installation`), signed once, "
        f"a new `X-GitHub-Delivery` per request · {meta['rounds']} interleaved round(s) × {meta['duration_s']:g} s "
        f"per cell, medians over rounds · run took {meta['elapsed_s']:.0f} s.",
        "",
        "Servers: gunicorn sync `-w 2` for the floor and the bot (they close every connection); the bot with "
        "`BOT_INLINE_WORKERS=0` and `LOG_LEVEL=warning` (a durable ack: delivery + job in one transaction); "
        "SQLite in WAL with synchronous=NORMAL; PostgreSQL "
        + (", ".join(f"{k}={v}" for k, v in sorted((meta.get("postgresql") or {}).items())) or "—")
        + "; Probot 14.3.2 with `LOG_LEVEL=warn` (its default `info` logs every request), measured with a "
        "connection per delivery (`close`, as GitHub delivers) and with keep-alive.",
        "",
        "| configuration | c | req/s (min–max) | p50 ms | p99 ms (worst) | × floor | × Probot close | × Probot keep-alive | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        def ratio(name):
            value = row.get(f"vs_{name}")
            return f"{value:.2f}" if value is not None else "—"
        lines.append(
            f"| {row['config']} | {row['concurrency']} | {row['rps']:.0f} ({row['rps_min']:.0f}–{row['rps_max']:.0f}) | "
            f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} ({row['p99_ms_worst']:.2f}) | {ratio('floor')} | "
            f"{ratio('probot_close')} | {ratio('probot_keepalive')} | {row['non_2xx']} | {row['socket_errors']} |")
    lines += ["", "`bot-sqlite-info-log`: the same bot with the default `LOG_LEVEL=info` (one line per accepted "
              "delivery to stderr, a file here); `probot-close-info-log`: Probot with its default `LOG_LEVEL=info` "
              "(one pino line per request). `*-duplicate`: every request repeats one delivery id (the "
              "dedupe path: nothing stored, 202).", "", "## Targets", "",
              "| target | where it stands | met |", "| --- | --- | --- |"]
    for label, config, concurrency, check in TARGETS:
        row = by.get((config, concurrency))
        if row is None:
            lines.append(f"| {label} | not measured | — |")
            continue
        met, figure = check(row)
        lines.append(f"| {label} | {figure} | {'yes' if met else '**no**'} |")
    lines += ["", "## Nothing lost", "",
              "Every 2xx wrk counted must be a stored delivery with its job. wrk stops with up to one request "
              "per connection in flight, which the server may store after wrk stopped counting, so stored − 2xx "
              "may lie between 0 and c for each run; lost = 2xx not stored.", "",
              "| server | 2xx | stored | lost | stored without job | non-2xx | socket errors | stored − 2xx within [0, c] |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, a in document["accounting"].items():
        lines.append(f"| {name} | {a['acknowledged_2xx']} | {a['stored']} | {a['lost']} | {a['stored_without_job']} | "
                     f"{a['non_2xx']} | {a['socket_errors']} | {'yes' if a['unacknowledged_but_stored_bound_ok'] else '**no**'} |")
    lines += ["", "## Memory (RSS of all processes of a server)", "", "| server | idle MB | peak under load MB |",
              "| --- | ---: | ---: |"]
    for name, figures in document["rss"].items():
        lines.append(f"| {name} | {figures.get('idle_mb', '—')} | {figures.get('under_load_mb', '—')} |")
    if meta["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in meta["notes"]]
    profile = document.get("profile")
    if profile:
        lines += ["", profile]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
