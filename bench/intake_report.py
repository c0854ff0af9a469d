"""The intake section's tables: medians over rounds, ratios to the floor and to Probot, targets."""

from __future__ import annotations

import statistics

from bench.wrk import Config


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(runs: list[dict], configs: list[Config], levels: list[int]) -> list[dict]:
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
    # (label, configuration, concurrency, check(row) -> (met, figure))
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


def targets(rows: list[dict]) -> list[dict]:
    """Each intake target with where it stands (met None: not measured in this run)."""
    by = {(row["config"], row["concurrency"]): row for row in rows}
    found = []
    for label, config, concurrency, check in TARGETS:
        row = by.get((config, concurrency))
        if row is None:
            found.append({"target": label, "figure": "not measured", "met": None})
            continue
        met, figure = check(row)
        found.append({"target": label, "figure": figure, "met": bool(met)})
    return found


def render(data: dict, profile_md: str) -> str:
    """The section's markdown (### headings; the report adds the section's own)."""
    meta, rows = data["meta"], data["summary"]
    machine = meta["machine"]
    lines = [
        f"{machine['cpus']} CPUs shared by servers and wrk · Node {machine['node']} · {machine['wrk']} · "
        f"payload {meta['payload_bytes']} bytes (`issue_comment.created` + `installation`), signed once, "
        f"a new `X-GitHub-Delivery` per request · {meta['rounds']} interleaved round(s) × {meta['duration_s']:g} s "
        f"per cell, medians over rounds · took {meta['elapsed_s']:.0f} s.",
        "",
        "Servers: gunicorn sync `-w 2` for the floor and the bot (they close every connection); the bot with "
        "`BOT_INLINE_WORKERS=0` and `LOG_LEVEL=warning` (a durable ack: the delivery stored, with its job in the same "
        "transaction when a handler wants it; GitHub's example comment holds no command, so it is stored as ignored, "
        "without a job or its body); "
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
              "dedupe path: nothing stored, 202). Targets: see the table at the top of the report."]
    lines += ["", "### Nothing lost", "",
              "Every 2xx wrk counted must be a stored delivery, with its job or as ignored. wrk stops with up to one request "
              "per connection in flight, which the server may store after wrk stopped counting, so stored − 2xx "
              "may lie between 0 and c for each run; lost = 2xx not stored.", "",
              "| server | 2xx | stored | lost | stored, neither queued nor ignored | non-2xx | socket errors | stored − 2xx within [0, c] |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, a in data["accounting"].items():
        lines.append(f"| {name} | {a['acknowledged_2xx']} | {a['stored']} | {a['lost']} | {a['stored_neither_queued_nor_ignored']} | "
                     f"{a['non_2xx']} | {a['socket_errors']} | {'yes' if a['unacknowledged_but_stored_bound_ok'] else '**no**'} |")
    lines += ["", "### Memory while acknowledging (RSS of all processes of a server)", "",
              "| server | idle MB | peak under load MB |", "| --- | ---: | ---: |"]
    for name, figures in data["rss"].items():
        lines.append(f"| {name} | {figures.get('idle_mb', '—')} | {figures.get('under_load_mb', '—')} |")
    if meta["notes"]:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in meta["notes"]]
    if profile_md:
        lines += ["", profile_md.strip()]
    return "\n".join(lines) + "\n"
