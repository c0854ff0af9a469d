"""Intake benchmark: how fast does a webhook delivery get a durable acknowledgement?

    .venv/bin/python -m bench.intake [--smoke] [--out DIR]   # this section alone (`make bench` runs all)

Starts, side by side, and keeps running for the whole benchmark (bench/servers.py):

- floor       a bare Flask app under gunicorn (sync, -w 2) that verifies the HMAC, parses the JSON, answers 202
- bot-sqlite  session-bot (`gunicorn app:app`, sync, -w 2) on SQLite in WAL with synchronous=NORMAL
- bot-pg      session-bot on PostgreSQL with its defaults (fsync, synchronous_commit on), a throwaway database
- probot      Probot 14.3.2 with one `issue_comment.created` handler, on Probot's own server

The bot runs with BOT_INLINE_WORKERS=0, so what is measured is the acknowledgement alone: the delivery
and its job stored in one transaction, then 202. Load comes from wrk (bench/wrk.py) with a real ~13 KB
`issue_comment.created` payload, signed once, a fresh X-GitHub-Delivery per request. Every configuration
runs at each concurrency once per round, rounds interleaved, so machine noise hits all alike; the figures
reported are the medians over rounds. Gunicorn's sync workers close every connection; Probot is measured
both with keep-alive and with `Connection: close` (GitHub opens a connection per delivery).

Afterwards the bot's databases are counted: every 2xx wrk saw must be a stored delivery with a job
(a lost one is a failure of the run). Finally bench/intake_profile.py times the ack in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import intake_report, wrk
from bench.servers import (ROOT, Server, bot_server, floor_server, http_request, make_private_key, pg_create,
                           pg_drop, pg_required, pg_settings, probot_installed, probot_server)
from bench.wrk import Config

TITLE = "Intake: a durable acknowledgement against a bare floor and Probot"
SECRET = "bench-" + secrets.token_hex(8)
INSTALLATION_ID = 4242001


def make_payload(directory: Path, secret: str = SECRET) -> tuple[Path, str, int]:
    """GitHub's own issue_comment.created example with an installation: (body file, signature, size)."""
    from tests.fakegithub.payloads import example, sign, with_installation

    payload = with_installation(example("issue_comment", "created"), INSTALLATION_ID)
    body = json.dumps(payload).encode()
    path = directory / "issue_comment.json"
    path.write_bytes(body)
    return path, sign(body, secret), len(body)


def check_one_delivery(server: Server, body_file: Path, signature: str) -> None:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issue_comment",
               "X-GitHub-Delivery": f"check-{server.name}-{secrets.token_hex(4)}", "X-Hub-Signature-256": signature}
    status, answer = http_request(server.port, "POST", wrk.WEBHOOK_PATH, body_file.read_bytes(), headers)
    if not 200 <= status < 300:
        raise RuntimeError(f"{server.name} answered {status} {answer[:200]!r} to a signed delivery:\n{server.output()}")


def stored_by_prefix(database_url: str, prefixes: list[str]) -> dict[str, dict[str, int]]:
    """For each run's prefix: deliveries stored, and how many of them are taken care of: stored with their
    job, or as ignored with none (no handler wants them: GitHub's example comment holds no command)."""
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
                    "SELECT count(DISTINCT d.id), count(DISTINCT CASE WHEN j.id IS NOT NULL OR d.outcome = 'ignored' "
                    "THEN d.id END) FROM deliveries d LEFT JOIN jobs j "
                    "ON j.delivery_id = d.id AND j.kind = 'delivery' WHERE d.guid LIKE :p"),
                    {"p": prefix + "-%"}).one()
                counts[prefix] = {"stored": row[0], "taken_care_of": row[1]}
    finally:
        engine.dispose()
    return counts


def _servers(tmp: Path, key: str, pg_url: str | None, extras: bool) -> dict[str, Server]:
    servers = {"floor": floor_server(SECRET, tmp),
               "bot-sqlite": bot_server("bot-sqlite", f"sqlite:///{tmp}/bench.sqlite3", key, SECRET, tmp)}
    if pg_url:
        servers["bot-pg"] = bot_server("bot-pg", pg_url, key, SECRET, tmp)
    if probot_installed():
        servers["probot"] = probot_server(key, SECRET, tmp)
    if extras:
        servers["bot-sqlite-info"] = bot_server("bot-sqlite-info", f"sqlite:///{tmp}/bench-info.sqlite3", key,
                                                SECRET, tmp, log_level="info")
        if "probot" in servers:
            servers["probot-info"] = probot_server(key, SECRET, tmp, log_level="info", name="probot-info")
    return servers


def _configs(servers: dict[str, Server], extras: bool) -> tuple[list[Config], list[Config]]:
    configs = [Config("floor", "floor", "close"), Config("bot-sqlite", "bot-sqlite", "close")]
    if "bot-pg" in servers:
        configs.append(Config("bot-pg", "bot-pg", "close"))
    if "probot" in servers:
        configs += [Config("probot-close", "probot", "close"), Config("probot-keepalive", "probot", "keepalive")]
    extra = []
    if extras:
        extra = [Config("bot-sqlite-info-log", "bot-sqlite-info", "close"),
                 Config("bot-sqlite-duplicate", "bot-sqlite", "close", "duplicate")]
        if "probot-info" in servers:
            extra.append(Config("probot-close-info-log", "probot-info", "close"))
        if "bot-pg" in servers:
            extra.append(Config("bot-pg-duplicate", "bot-pg", "close", "duplicate"))
    return configs, extra


def _account(servers: dict[str, Server], runs: list[dict]) -> dict:
    """Zero lost: every 2xx must be a stored delivery, with its job or ignored. wrk stops with up to one request per
    connection in flight, which the server may have stored without wrk counting the answer."""
    accounting = {}
    for name in ("bot-sqlite", "bot-pg", "bot-sqlite-info"):
        if name not in servers:
            continue
        mine = [run for run in runs if run["server"] == name and run["ids"] == "unique"]
        counted = stored_by_prefix(servers[name].database_url, [run["prefix"] for run in mine])
        for run in mine:
            stored = counted[run["prefix"]]
            run.update(stored=stored["stored"], taken_care_of=stored["taken_care_of"],
                       lost=max(0, run["ok"] - stored["stored"]), in_flight_at_stop=stored["stored"] - run["ok"])
        accounting[name] = {
            "acknowledged_2xx": sum(run["ok"] for run in mine),
            "stored": sum(run["stored"] for run in mine),
            "stored_neither_queued_nor_ignored": sum(run["stored"] - run["taken_care_of"] for run in mine),
            "lost": sum(run["lost"] for run in mine),
            "non_2xx": sum(run["non_2xx_3xx"] for run in mine),
            "socket_errors": sum(run["errors"] for run in mine),
            "unacknowledged_but_stored_max_per_run": max((run["in_flight_at_stop"] for run in mine), default=0),
            "unacknowledged_but_stored_bound_ok": all(0 <= run["in_flight_at_stop"] <= run["concurrency"]
                                                      for run in mine),
        }
    return accounting


def run(smoke: bool, *, duration: int | None = None, rounds: int | None = None,
        concurrency: list[int] | None = None, extras: bool = True) -> dict:
    """The intake section: {title, markdown, data, targets, failures}."""
    duration = duration or (1 if smoke else 5)
    rounds = rounds or (1 if smoke else 3)
    levels = concurrency or ([1, 8] if smoke else [1, 8, 32])
    if not wrk.installed():
        raise RuntimeError("wrk is not installed (apt-get install -y wrk; `make bench-tools` does it)")
    notes: list[str] = []
    if not probot_installed():
        notes.append("probot skipped: run `npm ci` in bench/probot (`make bench-tools` does)")

    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-intake-"))
    body_file, signature, body_size = make_payload(tmp)
    key = make_private_key()
    pg_url, pg_skip = pg_create()
    if pg_skip:
        notes.append(f"bot-pg skipped: {pg_skip}")
    servers = _servers(tmp, key, pg_url, extras)
    configs, extra_configs = _configs(servers, extras)
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
            wrk.run_wrk(servers[config.server].port, config, 8, 1, body_file, signature, f"w{tag}-{config.key}")
        print(f"intake: servers up, payload {body_size} bytes; {rounds} round(s) × {len(levels)} concurrency "
              f"levels × {len(configs)} configurations × {duration:g} s", flush=True)
        for round_number in range(rounds):
            for level in levels:
                # Rotate the order each round, so no configuration always follows the same one.
                shift = round_number % len(configs)
                order = configs[shift:] + configs[:shift]
                if extras and level == extra_level:
                    order = order + extra_configs
                for config in order:
                    server = servers[config.server]
                    prefix = f"r{tag}-{round_number}-{config.key}-c{level}"
                    result = wrk.run_wrk(server.port, config, level, duration, body_file, signature, prefix)
                    result.update(config=config.key, server=config.server, mode=config.mode, ids=config.ids,
                                  round=round_number)
                    runs.append(result)
                    if level >= extra_level:
                        peak = rss.setdefault(config.server, {})
                        peak["under_load_mb"] = max(peak.get("under_load_mb", 0), round(server.rss_mb(), 1))
                    print(f"  round {round_number + 1} c={level:<2} {config.key:<22} {result['rps']:8.0f} req/s  "
                          f"p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                          f"non-2xx {result['non_2xx_3xx']}  errors {result['errors']}", flush=True)
        accounting = _account(servers, runs)
    finally:
        for server in servers.values():
            server.stop()
        if pg_url:
            try:
                pg_drop(pg_url)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"could not drop {pg_url.rsplit('/', 1)[1]}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)
    # Where the time goes, in-process, after the servers are gone (so nothing competes for the CPUs).
    profile_md, profile_json = run_profile(100 if smoke else 1500, pg_ok=pg_url is not None)
    summary = intake_report.summarise(runs, configs + extra_configs, levels)
    data = {
        "meta": {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "node": _version(["node", "--version"]), "wrk": wrk.version()},
                 "payload_bytes": body_size, "duration_s": duration, "rounds": rounds, "concurrency": levels,
                 "elapsed_s": round(time.monotonic() - started, 1), "postgresql": pg_settings() or None,
                 "notes": notes},
        "summary": summary, "accounting": accounting, "rss": rss, "profile_us": profile_json, "runs": runs,
        "targets": intake_report.targets(summary),
    }
    lost = sum(a["lost"] + a["stored_neither_queued_nor_ignored"] for a in accounting.values())
    failures = [f"intake: {lost} acknowledged deliveries lost or stored without their job"] if lost else []
    if pg_skip and pg_required():
        failures.append(f"intake: bot-pg not measured: {pg_skip}")
    return {"title": TITLE, "markdown": intake_report.render(data, profile_md), "data": data,
            "targets": [dict(t, section="intake") for t in data["targets"]], "failures": failures}


def run_profile(n: int, *, pg_ok: bool) -> tuple[str, list]:
    """bench.intake_profile in a fresh process: (its markdown, its figures)."""
    argv = [sys.executable, "-m", "bench.intake_profile", "-n", str(n), "--database", "both" if pg_ok else "sqlite",
            "--json-last"]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return f"### In-process profile failed\n\n```\n{out.stderr[-2000:]}\n```\n", []
    markdown, _, figures = out.stdout.partition("\nPROFILE_JSON ")
    return markdown.strip() + "\n", json.loads(figures)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts; asserts no timings")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 5, smoke 1)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, smoke 1)")
    parser.add_argument("--concurrency", help="comma-separated (default 1,8,32; smoke 1,8)")
    parser.add_argument("--no-extras", action="store_true", help="skip the duplicate-id and INFO-logging runs")
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    args = parser.parse_args(argv)
    from bench import report

    levels = [int(c) for c in args.concurrency.split(",")] if args.concurrency else None
    return report.run_alone("intake", lambda: run(args.smoke, duration=args.duration, rounds=args.rounds,
                                                  concurrency=levels, extras=not args.no_extras),
                            smoke=args.smoke, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
