"""API economy: how many GitHub requests each operation costs, and how many a naive bot would make.

    .venv/bin/python -m bench.api_economy [--smoke] [--out DIR]   # this section alone

The real bot (gunicorn, one worker process so its in-process caches are one; SQLite) against the
fake GitHub, which records every request. Operations, each on its own pull request:

- stop      `/session stop` of a running session (and, separately, its grace-period check);
- log       `/session log` of a finished session (the download's blob host apart);
- lifecycle a tracked session: workflow_run requested → in_progress, workflow_job, pull_request opened
            (one burst), then workflow_job + workflow_run completed, then two later pull_request
            events whose timeline read finds nothing new (a 304).

Run twice: as configured (defaults: permission and config cached 60 s, a warm installation token),
and with those two caches lapsed (`PERMISSION_CACHE_SECONDS` / `REPO_CONFIG_CACHE_SECONDS` = 1 ms),
from which the naive count is derived (see NAIVE below). The bot's debug log names the job of each
call, which is how the calls are grouped into jobs.
"""

from __future__ import annotations

import json
import re
import sys
import time

from bench.harness import INSTALLATION, REPO, Stack

TITLE = "API economy: GitHub requests per operation, against a naive bot"
CONFIG_FILE = "summary: normal\n"  # a config file that exists, so a re-check can be a 304
STATUS_MARKER = "<!-- session-bot:status -->"
NAIVE = ("naive = what a bot without a token cache, without permission and config caches and without "
         "ETags would send: every API request of the caches-lapsed run (token mints aside), plus one "
         "installation-token mint per job that called GitHub (each job is one batch of calls), with every "
         "304 a full 200 that counts against the rate limit. Coalescing (one timeline read and one "
         "status-comment edit per window) is kept: it is not counted in the naive figure's favour.")
_NAMES = [  # (method, path pattern, short name)
    ("POST", r"/app/installations/\d+/access_tokens$", "token"),
    ("GET", r"/collaborators/[^/]+/permission$", "permission"),
    ("GET", r"/contents/\.github/session-bot\.yml$", "config"),
    ("POST", r"/actions/runs/\d+/cancel$", "cancel"),
    ("POST", r"/actions/runs/\d+/force-cancel$", "force-cancel"),
    ("GET", r"/actions/runs/\d+/logs$", "log download"),
    ("GET", r"/actions/runs/\d+$", "run"),
    ("POST", r"/reactions$", "reaction"),
    ("GET", r"/issues/\d+/timeline$", "timeline"),
    ("GET", r"/pulls/\d+/commits$", "commits"),
    ("GET", r"/pulls/\d+$", "pull"),
    ("GET", r"/pulls$", "pulls by branch"),
    ("GET", r"/issues/\d+/comments$", "comments"),
    ("POST", r"/issues/\d+/comments$", "comment"),
    ("PATCH", r"/issues/comments/\d+$", "comment edit"),
]
_CALL_LINE = re.compile(r"^GitHub (\w+) (\S+) -> (\d+)$")


def name_of(request) -> str:
    for method, pattern, name in _NAMES:
        if request.method == method and re.search(pattern, request.path):
            return name
    return f"{request.method} {request.path}"


def kind_of(request, name: str) -> str:
    """core | token | reaction | status | grace | blob: how a request is counted."""
    if request.host != "api":
        return "blob"
    if name == "token":
        return "token"
    if name == "reaction":
        return "reaction"
    if name in ("comment", "comment edit") and ((request.json or {}).get("body") or "").startswith(STATUS_MARKER):
        return "status"
    if name in ("run", "force-cancel"):
        return "grace"  # only stop.verify reads a run or force-cancels on these paths
    return "core"


def _log_calls(lines: list[str]) -> list[dict]:
    """The bot's debug lines for GitHub calls: method, path, status and the job that made each."""
    calls = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        match = _CALL_LINE.match(entry.get("msg", "")) if isinstance(entry, dict) else None
        if match:
            calls.append({"method": match[1], "path": match[2], "status": int(match[3]),
                          "job": entry.get("job_id"), "job_kind": entry.get("job_kind")})
    return calls


def counted(stack: Stack, action, *, include_verify: bool = False) -> dict:
    """Run `action`, wait until the bot is done with it; its requests, classified."""
    mark, log_mark = len(stack.fake.requests), len(stack.web.output)
    action()
    time.sleep(0.3)
    stack.settle(exclude=() if include_verify else ("stop.verify",))
    requests = stack.fake.requests[mark:]
    calls = []
    for request in requests:
        name = name_of(request)
        calls.append({"name": name, "kind": kind_of(request, name), "status": request.status,
                      "method": request.method, "path": request.path})
    logged = _log_calls(stack.web.output[log_mark:])
    jobs = {c["job"] for c in logged if c["job"] is not None and not c["path"].endswith("/access_tokens")}
    api = [c for c in calls if c["kind"] != "blob"]
    return {
        "calls": calls,
        "api": len(api),
        "not_modified": sum(c["status"] == 304 for c in api),
        "by_kind": {kind: sum(c["kind"] == kind for c in calls) for kind in
                    ("core", "token", "reaction", "status", "grace", "blob")},
        "core_304": sum(c["status"] == 304 for c in api if c["kind"] == "core"),
        "jobs_with_calls": len(jobs),
        "job_kinds": sorted({c["job_kind"] for c in logged if c["job"] in jobs}),
        "logged_api_calls": len(logged),
    }


def scenario(smoke: bool, lapsed: bool) -> dict:
    """Every operation once (plus a cold first command) on a fresh bot; {operation: counted}."""
    settings = {"LOG_LEVEL": "debug", "LOG_FORMAT": "json", "STOP_GRACE_SECONDS": 1 if smoke else 3,
                "GITHUB_WRITE_INTERVAL_SECONDS": 0.001}  # pacing changes no count, only waits
    if smoke:
        settings.update(TIMELINE_COALESCE_SECONDS=0.3, STATUS_COMMENT_INTERVAL_SECONDS=0.5)
    if lapsed:
        settings.update(PERMISSION_CACHE_SECONDS=0.001, REPO_CONFIG_CACHE_SECONDS=0.001)
    from tests import agentlogs
    from tests import sessions_payloads as hooks

    archive = agentlogs.run_logs_zip(_small_log())
    found = {}
    with Stack(web_workers=1, config_file=CONFIG_FILE, **settings) as stack:
        setup = (stack.session(11, 9011, finished=False) + stack.session(12, 9012, finished=False)
                 + stack.session(14, 9014, finished=True, archive=archive))
        stack.set_up(setup)

        def command(pr: int, body: str):
            return lambda: stack.deliver("issue_comment", stack.comment(pr, body)[1])

        found["stop, first by this user (permission not cached)"] = counted(stack, command(11, "/session stop"),
                                                                  include_verify=True)
        found["stop"] = counted(stack, command(12, "/session stop"), include_verify=True)
        found["log (finished session)"] = counted(stack, command(14, "/session log"))

        # A tracked session from its first event to the last.
        t0 = float(int(time.time()) - 300)
        pr, run_id = 21, 9021
        run = stack.fake.add_run(REPO, run_id, status="in_progress", conclusion=None, pull_requests=[pr],
                                 created_at=t0, run_started_at=t0 + 2, updated_at=t0 + 3,
                                 triggering_actor="Copilot", head_branch="copilot/fix-21")
        pull = stack.fake.add_pull(REPO, pr, created_at=t0 + 20, head_branch="copilot/fix-21")
        stack.fake.add_timeline_event(REPO, pr, "copilot_work_started", actor="monalisa", created_at=t0 + 1)

        def deliver_all(deliveries):
            return lambda: [stack.deliver(event, payload) for event, payload in deliveries]

        found["lifecycle: start (4 deliveries)"] = counted(stack, deliver_all([
            ("workflow_run", hooks.workflow_run("requested", stack.fake, hooks.run_at(run, "queued", at=t0),
                                                INSTALLATION)),
            ("workflow_run", hooks.workflow_run("in_progress", stack.fake, run, INSTALLATION)),
            ("workflow_job", hooks.workflow_job("in_progress", stack.fake, run, INSTALLATION, job_id=77,
                                                started_at=t0 + 4)),
            ("pull_request", hooks.pull_request("opened", stack.fake, pull, INSTALLATION))]))
        stack.fake.add_timeline_event(REPO, pr, "copilot_work_finished", actor="Copilot", created_at=t0 + 299)
        done = hooks.run_at(run, "completed", conclusion="success", at=t0 + 300)
        stack.fake.actions.runs[REPO.lower()][run_id] = done
        found["lifecycle: end (2 deliveries)"] = counted(stack, deliver_all([
            ("workflow_job", hooks.workflow_job("completed", stack.fake, done, INSTALLATION, job_id=77,
                                                started_at=t0 + 4, completed_at=t0 + 298, conclusion="success")),
            ("workflow_run", hooks.workflow_run("completed", stack.fake, done, INSTALLATION))]))
        for n in (1, 2):
            found[f"lifecycle: later PR event {n} (timeline unchanged)"] = counted(stack, deliver_all([
                ("pull_request", hooks.pull_request("synchronize", stack.fake, pull, INSTALLATION))]))
        problems = stack.fake.problems()
    return {"operations": found, "fake_problems": problems}


def _small_log() -> bytes:
    import io

    from tests.agentlogs import write_agent_log

    sink = io.BytesIO()
    write_agent_log(sink, 256 * 1024)
    return sink.getvalue()


def compare(as_built: dict, lapsed: dict) -> list[dict]:
    rows = []
    for operation, bot in as_built["operations"].items():
        other = lapsed["operations"].get(operation, bot)
        naive = other["api"] - other["by_kind"]["token"] + other["jobs_with_calls"]
        rows.append({
            "operation": operation,
            "core": bot["by_kind"]["core"], "core_304": bot["core_304"],
            "calls": " · ".join(f"{c['name']} {c['status']}" for c in bot["calls"] if c["kind"] == "core"),
            "reaction": bot["by_kind"]["reaction"], "status": bot["by_kind"]["status"],
            "grace": bot["by_kind"]["grace"], "token": bot["by_kind"]["token"], "blob": bot["by_kind"]["blob"],
            "api": bot["api"], "rate_limited": bot["api"] - bot["not_modified"],
            "lapsed_api": other["api"], "lapsed_rate_limited": other["api"] - other["not_modified"],
            "naive": naive, "jobs_with_calls": other["jobs_with_calls"],
        })
    return rows


def targets(rows: list[dict], lapsed: dict) -> list[dict]:
    by = {row["operation"]: row for row in rows}
    found = []
    for operation, label in (("stop", "`/session stop` ≤ 3 requests (permission, cancel, reply)"),
                             ("log (finished session)", "`/session log` of a finished session ≤ 3 requests")):
        row = by.get(operation)
        if row:
            cold = next((r for name, r in by.items() if name.startswith(f"{operation}, first")), None)
            figure = f"{row['core']} with warm caches ({row['calls']})"
            if cold:
                figure += f"; {cold['core']} for a user's first stop ({cold['calls']})"
            found.append({"target": label, "figure": figure, "met": row["core"] <= 3})
    later = [row for name, row in by.items() if name.startswith("lifecycle: later")]
    timeline = [c for name, op in lapsed["operations"].items() if name.startswith("lifecycle: later")
                for c in op["calls"] if c["name"] == "timeline"]
    if timeline:
        found.append({"target": "an unchanged timeline costs a 304",
                      "figure": ", ".join(str(c["status"]) for c in timeline)
                      + f" ({sum(r['core_304'] for r in later)} 304s with warm caches)",
                      "met": all(c["status"] == 304 for c in timeline)})
    config = [c for op in lapsed["operations"].values() for c in op["calls"] if c["name"] == "config"]
    if config:
        found.append({"target": "an unchanged config costs a 304",
                      "figure": f"{sum(c['status'] == 304 for c in config)} of {len(config)} re-checks 304 "
                      "(caches lapsed; the first read a 200)",
                      "met": all(c["status"] == 304 for c in config[1:])})
    return found


def render(rows: list[dict], data: dict) -> str:
    lines = [
        "Requests to the fake GitHub's API host per operation, on a bot that has already run a command (its "
        "installation token and, within 60 s, a user's permission and the repository's config are cached). "
        "**core** = what the operation itself costs; the 👀 reaction, status-comment posts/edits, the "
        "grace-period check of a stop (60 s later by default) and installation-token mints are counted apart; "
        "log downloads' blob-host requests are not API requests and not counted. 304s cost no rate limit.",
        "",
        "| operation | core | core requests (this bot) | + 👀 | + status comment | + grace check | + token | "
        "rate-limited total | caches lapsed: total (rate-limited) | naive total (all rate-limited) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['operation']} | {r['core']} | {r['calls'] or '—'} | {r['reaction']} | {r['status']} | "
                     f"{r['grace']} | {r['token']} | {r['rate_limited']} of {r['api']} | {r['lapsed_api']} "
                     f"({r['lapsed_rate_limited']}) | {r['naive']} |")
    lifecycle = [r for r in rows if r["operation"].startswith("lifecycle")]
    if lifecycle:
        lines += ["", f"A whole tracked session (the lifecycle rows together): this bot "
                  f"{sum(r['api'] for r in lifecycle)} requests, {sum(r['rate_limited'] for r in lifecycle)} of them "
                  f"against the rate limit; naive {sum(r['naive'] for r in lifecycle)}, all against it."]
    lines += ["", f"The naive model: {NAIVE}", "",
              "Settings: one gunicorn worker (so its caches are the one cache), SQLite, defaults otherwise "
              "(`TIMELINE_COALESCE_SECONDS=5`, `STATUS_COMMENT_INTERVAL_SECONDS=10`) except "
              "`GITHUB_WRITE_INTERVAL_SECONDS=0.001` (pacing changes no count), `STOP_GRACE_SECONDS=3` (so the "
              "grace check is seen) and periodic missed-delivery recovery off (it is not per operation). "
              "Repository config `.github/session-bot.yml` present (a missing file is a 404 on every re-check: "
              "GitHub gives no ETag to a 404)."]
    if data.get("fake_problems"):
        lines += ["", "Requests GitHub would have refused (the fake's problems):", ""]
        lines += [f"- {p}" for p in data["fake_problems"][:20]]
    return "\n".join(lines) + "\n"


def run(smoke: bool) -> dict:
    print("api economy: as configured", flush=True)
    as_built = scenario(smoke, lapsed=False)
    print("api economy: caches lapsed", flush=True)
    lapsed = scenario(smoke, lapsed=True)
    rows = compare(as_built, lapsed)
    for row in rows:
        print(f"  {row['operation']:<52} core {row['core']}  ({row['calls']})  naive {row['naive']}", flush=True)
    problems = as_built["fake_problems"] + lapsed["fake_problems"]
    data = {"rows": rows, "as_configured": as_built, "caches_lapsed": lapsed, "naive_model": NAIVE,
            "fake_problems": problems}
    failures = []
    stop = next((r for r in rows if r["operation"] == "stop"), None)
    if stop is None or "cancel" not in stop["calls"]:
        failures.append("api_economy: the stop sent no cancel")
    return {"title": TITLE, "markdown": render(rows, data), "data": data, "targets": targets(rows, lapsed),
            "failures": failures}


def main(argv: list[str] | None = None) -> int:
    from bench import report

    return report.section_main("api_economy", run, __doc__, "short coalescing windows; asserts no timings", argv)


if __name__ == "__main__":
    sys.exit(main())
