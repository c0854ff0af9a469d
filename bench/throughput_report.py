"""The throughput section's figures, tables and targets (bench/throughput.py measures)."""

from __future__ import annotations

import statistics

from bench.harness import percentiles

E2E_OF_FLOOR = 0.50      # default: end to end (load A) at least this share of the floor's
ACK_P99_MS = 20.0        # default: ack p99 while processing (load A)
PG_E2E_PER_S = 1500.0    # pg: end to end (load A)
STOP_P99_MS = 1000.0     # a stop during a burst reaches GitHub


def figures(target: str, ok: int, load_s: float, p50_ms: float | None, p99_ms: float | None, drained: dict,
            timeout: float, **extra) -> dict:
    """One run's figures. The end-to-end rate is 2xx / (load + drain); a drain that timed out makes it
    an upper bound (`e2e_upper_bound`), counted with the timeout as its drain."""
    drain_s = drained["seconds"]
    seconds = load_s + (drain_s if drain_s is not None else timeout)
    return {"target": target, "ok": ok, "load_s": round(load_s, 2),
            "ack_per_s": round(ok / load_s, 1) if load_s else None,
            "p50_ms": _round(p50_ms), "p99_ms": _round(p99_ms), "drain_s": drain_s, "backlog": drained["backlog"],
            "e2e_per_s": round(ok / seconds, 1) if seconds else None, "e2e_upper_bound": drain_s is None, **extra}


def stop_figures(stop) -> dict:
    """A bench/burst_stops.py Stop as figures."""
    return {"installation": stop.install.id, "offset_s": round(stop.offset, 2), "status": stop.status,
            "ack_ms": _round(stop.ack_ms), "cancel_ms": _round(stop.cancel_ms)}


def one_line(run: dict) -> str:
    """A run, for the progress lines."""
    return (f"2xx {run['ok']:>6}  ack {run['ack_per_s']:>7}/s  p50 {run['p50_ms']} ms  p99 {run['p99_ms']} ms  "
            f"drain {_seconds(run['drain_s'])}  end to end {_rate(run)}")


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def _seconds(value: float | None) -> str:
    return "timed out" if value is None else f"{value:.2f} s"


def _rate(row: dict) -> str:
    return f"{'< ' if row['e2e_upper_bound'] else ''}{row['e2e_per_s']:,.0f}/s"


def summarise(data: dict) -> dict:
    """Load A: medians over rounds per server, with the end-to-end rate against the floor's and Probot's;
    load B: one row per deployment; the stops: cancel latency per deployment."""
    runs = data["load_a"]["runs"]
    rows_a = {}
    for key in data["load_a"]["targets"]:
        mine = [run for run in runs if run["target"] == key]
        rows_a[key] = {
            "target": key, "rounds": len(mine), "ok": sum(run["ok"] for run in mine),
            "ack_per_s": _median([run["ack_per_s"] for run in mine]),
            "p50_ms": _median([run["p50_ms"] for run in mine]), "p99_ms": _median([run["p99_ms"] for run in mine]),
            "p99_ms_worst": max((run["p99_ms"] for run in mine), default=None),
            "drain_s": None if any(run["drain_s"] is None for run in mine) else _median([r["drain_s"] for r in mine]),
            "backlog": _median([run["backlog"] for run in mine]),
            "e2e_per_s": _median([run["e2e_per_s"] for run in mine]),
            "e2e_upper_bound": any(run["e2e_upper_bound"] for run in mine),
            "non_2xx": sum(run["non_2xx"] for run in mine), "errors": sum(run["errors"] for run in mine)}
    for row in rows_a.values():
        for reference in ("floor", "probot-close"):
            if rows_a.get(reference, {}).get("e2e_per_s") and row["e2e_per_s"] is not None:
                row[f"vs_{reference.split('-')[0]}"] = round(row["e2e_per_s"] / rows_a[reference]["e2e_per_s"], 3)
    stops = {}
    for key in data["deployments"]:
        mine = [s for run in runs if run["target"] == key for s in run["stops"]]
        if mine:
            stops[key] = {"cancel_ms": percentiles([s["cancel_ms"] for s in mine if s["cancel_ms"] is not None]),
                          "ack_ms": percentiles([s["ack_ms"] for s in mine if s["ack_ms"] is not None]),
                          "missing": sum(1 for s in mine if s["cancel_ms"] is None),
                          "non_2xx": sum(1 for s in mine if not (s["status"] and 200 <= s["status"] < 300))}
    keep = ("target", "ok", "ack_per_s", "p50_ms", "p99_ms", "drain_s", "backlog", "e2e_per_s", "e2e_upper_bound",
            "deliveries", "non_2xx", "all_jobs_done_s")
    rows_b = {run["target"]: {k: run.get(k) for k in keep} for run in data["load_b"]}
    return {"load_a": rows_a, "load_b": rows_b, "stops": stops}


def targets(summary: dict, smoke: bool) -> list[dict]:
    """The section's targets (met None in smoke, or when not measured); load B's end to end is listed
    beside them without a target, so that skipping work nobody needs cannot be the whole answer."""
    a, b = summary["load_a"], summary["load_b"]
    found = []

    def add(label: str, row: dict | None, check) -> None:
        if row is None:
            found.append({"target": label, "figure": "not measured", "met": None})
            return
        met, figure = check(row)
        found.append({"target": label, "figure": figure, "met": None if smoke else bool(met)})

    floor = a.get("floor", {}).get("e2e_per_s")
    add(f"default: end to end (load A) ≥ {E2E_OF_FLOOR:.0%} of the floor, c=8",
        a.get("default") if floor else None,
        lambda r: (r["e2e_per_s"] >= E2E_OF_FLOOR * floor and not r["e2e_upper_bound"],
                   f"{_rate(r)} = {r['e2e_per_s'] / floor:.0%} of the floor's {floor:,.0f}/s "
                   f"(ack {r['ack_per_s']:,.0f}/s, drain {_seconds(r['drain_s'])})"))
    add(f"default: ack p99 < {ACK_P99_MS:g} ms at c=8 while processing (load A)", a.get("default"),
        lambda r: (r["p99_ms"] < ACK_P99_MS, f"p99 {r['p99_ms']} ms (worst round {r['p99_ms_worst']} ms)"))
    # Set on a machine whose floor was ~3.8k/s (about 40% of it): the share of this run's floor says more.
    add(f"pg: end to end (load A) ≥ {PG_E2E_PER_S:,.0f}/s", a.get("pg"),
        lambda r: (r["e2e_per_s"] >= PG_E2E_PER_S and not r["e2e_upper_bound"],
                   f"{_rate(r)}" + (f" = {r['e2e_per_s'] / floor:.0%} of the floor" if floor else "")
                   + f" (ack {r['ack_per_s']:,.0f}/s, drain {_seconds(r['drain_s'])})"))
    for key in ("default", "pg"):
        add(f"{key}: `/session stop` during a burst reaches GitHub < {STOP_P99_MS / 1000:g} s p99",
            summary["stops"].get(key),
            lambda r: (r["cancel_ms"]["p99"] is not None and r["cancel_ms"]["p99"] < STOP_P99_MS and not r["missing"],
                       f"p99 {r['cancel_ms']['p99']} ms (p50 {r['cancel_ms']['p50']}, n={r['cancel_ms']['n']}"
                       + (f", {r['missing']} never arrived" if r["missing"] else "") + ")"))
    for key in ("default", "pg"):
        row = b.get(key)
        found.append({"target": f"{key}: end to end, mixed load B (no target: shown so it stays visible)",
                      "figure": (f"{_rate(row)} (ack {row['ack_per_s']:,.0f}/s, drain {_seconds(row['drain_s'])})"
                                 if row else "not measured"), "met": None})
    return found


def _label(key: str, data: dict) -> str:
    before = data["deployments"].get(key, {}).get("before")
    return f"before ({before}): {key.removeprefix('before-')}" if before else key


def _ratio(row: dict, name: str) -> str:
    value = row.get(f"vs_{name}")
    return "—" if value is None else f"{'< ' if row['e2e_upper_bound'] else ''}{value:.2f}"


def render(data: dict, smoke: bool) -> str:
    """The section's markdown (### headings; the report adds the section's own)."""
    summary, sizes = data["summary"], data["sizes"]
    a_rows, b_rows, stop_rows = summary["load_a"], summary["load_b"], summary["stops"]
    deployments = "; ".join(f"`{_label(k, data)}`: {d['label']}" for k, d in data["deployments"].items())
    lines = [
        f"Deliveries per second **acknowledged and processed**, c={data['concurrency']}, a new connection per "
        f"delivery, every server on the same 2 cores as the load generator. {deployments}. The bot runs from its "
        "checkout with its gunicorn.conf.py (2 sync workers), `LOG_LEVEL=info` (the default; text format), "
        "migrated as `make run` does (`flask --app app db upgrade`), against the fake GitHub in the bench's "
        "process. **Drain**: from the end of the load until no `delivery` job is queued or running and no "
        "delivery of the run has outcome `queued` (a delivery nobody needs may be `ignored` at intake, with no "
        f"job); timeout {data['drain_timeout_s']:g} s, after which the rate is an upper bound (`<`). "
        "**End to end** = 2xx / (load seconds + drain seconds). The floor (bench/floor_app.py) and Probot "
        "(one `issue_comment.created` handler, a connection per delivery) acknowledge and process nothing "
        "more, so their drain is 0 and their end to end is their ack rate; they are measured on load A only.",
        "",
        f"### Load A: GitHub's `issue_comment.created` example, wrk, {sizes['rounds']} interleaved round(s) × "
        f"{sizes['seconds']:g} s",
        "",
        f"The {data['load_a']['payload_bytes']:,}-byte example with an `installation` (bench/intake.py's body, no "
        "command in it), signed once, a fresh `X-GitHub-Delivery` per request; 1 s of warm-up per server first "
        "(drained). Each cell starts once the CPUs were ≥ 85% idle for 0.5 s, so what one server still does after "
        "its load (follow-up jobs, PostgreSQL's writers) does not land on the next. Medians over rounds; 2xx summed. Ack latency is wrk's, from the request's write (connect "
        "time excluded). Backlog: `delivery` jobs still to run when the load stopped. The bot's own settings "
        "(write pacing 1 s) apply.",
        "",
        "| configuration | 2xx | ack/s | ack p50 / p99 ms (worst) | backlog | drain | end to end | × floor "
        "| × Probot |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, row in a_rows.items():
        drain = "— (nothing to process)" if key in ("floor", "probot-close") else _seconds(row["drain_s"])
        lines.append(f"| {_label(key, data)} | {row['ok']:,} | {row['ack_per_s']:,.0f} | {row['p50_ms']} / "
                     f"{row['p99_ms']} ({row['p99_ms_worst']}) | {row['backlog']:,.0f} | {drain} | {_rate(row)} | "
                     f"{_ratio(row, 'floor')} | {_ratio(row, 'probot')} |")
    errors = {key: (row["non_2xx"], row["errors"]) for key, row in a_rows.items() if row["non_2xx"] or row["errors"]}
    if errors:
        lines += ["", "Non-2xx / socket errors: " + "; ".join(f"{k} {n} / {e}" for k, (n, e) in errors.items()) + "."]
    lines += ["", "### `/session stop` during load A", "",
              "Spread evenly over each bot's bursts, each for a running Copilot session on an installation of its "
              "own, by a person of its own with write access (so neither the per-installation write pacing nor "
              "the per-person command limit holds one stop behind another); timed from just before the POST to "
              "the fake GitHub receiving `POST …/actions/runs/{id}/cancel` (its own arrival stamp).", "",
              "| configuration | n | cancel p50 / p99 / max ms | stop's ack p50 / p99 ms | never arrived | non-2xx |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, row in stop_rows.items():
        c, k = row["cancel_ms"], row["ack_ms"]
        lines.append(f"| {_label(key, data)} | {c['n'] + row['missing']} | {c['p50']} / {c['p99']} / {c['max']} | "
                     f"{k['p50']} / {k['p99']} | {row['missing']} | {row['non_2xx']} |")
    lines += ["", f"### Load B: the mixed load (bench/mixed.py), {sizes['mixed']:,} deliveries per configuration", "",
              "bench/mixed.py's mix (Copilot runs and jobs, pull-request syncs, `/session list` commands, plain "
              "comments, pings, events nobody handles, ~2 % redelivered ids) on 3 installations, each with a "
              "running session, sent by bench/sender.py from a separate process, c=8, a connection each. "
              f"`GITHUB_WRITE_INTERVAL_SECONDS={mixed_interval()}` as bench/load.py has it (the 1 s default "
              "would make the drain measure the write pacing). Ack latency: from the connect to the whole "
              "answer. 2xx include pings and redeliveries (acknowledged, nothing to process). All jobs done: from "
              "the end of the load until the timeline reads and status comments the deliveries queued in turn "
              "(coalesced 5 s and 10 s) are done too.", "",
              "| configuration | 2xx | ack/s | ack p50 / p99 ms | backlog | drain | end to end | all jobs done |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, row in b_rows.items():
        lines.append(f"| {_label(key, data)} | {row['ok']:,} | {row['ack_per_s']:,.0f} | {row['p50_ms']} / "
                     f"{row['p99_ms']} | {row['backlog']:,} | {_seconds(row['drain_s'])} | {_rate(row)} | "
                     f"{_seconds(row['all_jobs_done_s'])} |")
    lines += [""] + [_log_line(_label(run["target"], data), run["logs"]) for run in data["load_b"]]
    lines += ["", "### Exactly once", "", _exactly_once(data)]
    if data["baseline"]:
        lines += ["", _before_after(data)]
    if data["notes"]:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in data["notes"]]
    if smoke:
        lines += ["", f"Smoke: {sizes['rounds']} round of {sizes['seconds']:g} s, {sizes['mixed']} mixed "
                  f"deliveries, {sizes['stops']} stops per configuration: the figures mean nothing."]
    return "\n".join(lines) + "\n"


def _log_line(label: str, logs: dict) -> str:
    """The warning and error lines the bot's processes printed during load B (bench/checks.py counts them)."""
    noisy = {name: log for name, log in logs.items() if log["lines"] or log["exited"] is not None}
    said = "; ".join(f"{name}: {log['lines']} (exited: {log['exited']}) " + ", ".join(
        f"`{message[:120]}` ×{n}" for message, n in log["messages"].items()) for name, log in noisy.items())
    return f"- {label}: warning/error lines printed during load B: {said or 'none'}."


def mixed_interval() -> str:
    from bench.mixed import WRITE_INTERVAL

    return f"{WRITE_INTERVAL:g}"


def _exactly_once(data: dict) -> str:
    """Every 2xx delivery stored once and processed once, per configuration and load."""
    lines = ["Counted in each bot's database after its drain (delivery ids carry the run's prefix): every 2xx "
             "must be stored once, processed (outcome `done` or `ignored`, never `failed`), with no `delivery` job "
             "run twice (attempts > 1), dead, or doubled. wrk stops with up to one request per connection in "
             "flight, which may be stored without its 2xx counted (stored − 2xx within [0, 8] per run). Load B "
             "also counts deliveries lost by id and requests GitHub would refuse (bench/checks.py). Any of these "
             "is a failure of the run.", "",
             "| configuration | load | 2xx | stored | done / ignored | failed | queued | jobs retried / dead / "
             "doubled | without a job | other checks |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for key, account in data["load_a"]["exactly_once"].items():
        groups = account["groups"].values()
        total = {name: sum(g.get(name, 0) for g in groups) for name in (
            "acknowledged", "stored", "failed", "queued", "jobs_retried", "jobs_dead", "more_than_one_job",
            "without_job")}
        outcomes = {name: sum(g.get("outcomes", {}).get(name, 0) for g in groups) for name in ("done", "ignored")}
        lines.append(_tally_row(_label(key, data), "A (with warm-up, stops)", total, outcomes,
                     "in-flight bound " + ("held" if account["in_flight_bound_ok"] else "**broken**")))
    for run in data["load_b"]:
        counted, lost, github = run["exactly_once"], run["lost"], run["github"]
        lines.append(_tally_row(_label(run["target"], data), "B", {"acknowledged": run["ok"], **counted},
                                counted.get("outcomes", {}),
                                f"lost {lost['lost']}, refused by GitHub {github['problem_count']}, dead jobs (any "
                                f"kind) {len(lost['dead'])}"))
    return "\n".join(lines)


def _tally_row(label: str, load: str, c: dict, outcomes: dict, other: str) -> str:
    return (f"| {label} | {load} | {c.get('acknowledged', 0):,} | {c.get('stored', 0):,} | "
            f"{outcomes.get('done', 0):,} / {outcomes.get('ignored', 0):,} | {c.get('failed', 0)} | "
            f"{c.get('queued', 0)} | {c.get('jobs_retried', 0)} / {c.get('jobs_dead', 0)} / "
            f"{c.get('more_than_one_job', 0)} | {c.get('without_job', 0):,} | {other} |")


def _before_after(data: dict) -> str:
    """End to end, this checkout against the baseline's, per configuration and load."""
    lines = [f"### Before ({data['baseline']}) and after, end to end", "",
             "| configuration | load | before | after | after / before |", "| --- | --- | ---: | ---: | ---: |"]
    for load, rows in (("A", data["summary"]["load_a"]), ("B", data["summary"]["load_b"])):
        for key in ("default", "pg"):
            after, before = rows.get(key), rows.get(f"before-{key}")
            if after and before and before["e2e_per_s"]:
                lines.append(f"| {key} | {load} | {_rate(before)} | {_rate(after)} | "
                             f"{after['e2e_per_s'] / before['e2e_per_s']:.2f} |")
    return "\n".join(lines)
