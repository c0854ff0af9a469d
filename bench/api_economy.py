"""API economy: how many GitHub requests each operation costs, and how many a naive bot would make.

    .venv/bin/python -m bench.api_economy [--smoke] [--out DIR]   # this section alone

The real bot as it scales out (gunicorn with two workers, each running jobs, and a separate
`python -m bot.worker`; SQLite), so a delivery and its jobs land on any of three processes, against
the fake GitHub, which records every request. The repository has no config file (the common case:
a 404 GitHub gives no ETag). Operations, each on its own pull request:

- stop      `/session stop` of a running session (and, separately, its grace-period check);
- log       `/session log` of a finished session (the download's blob host apart), then again;
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
import math
import re
import sys
import time

from bench.harness import INSTALLATION, REPO, Stack

TITLE = "API economy: GitHub requests per operation, against a naive bot"
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
    processes = [stack.web, *stack.bot.workers]
    mark, log_marks = len(stack.fake.requests), [len(p.output) for p in processes]
    action()
    time.sleep(0.3)
    stack.settle(exclude=() if include_verify else ("stop.verify",))
    requests = stack.fake.requests[mark:]
    calls = []
    for request in requests:
        name = name_of(request)
        calls.append({"name": name, "kind": kind_of(request, name), "status": request.status,
                      "method": request.method, "path": request.path})
    logged = _log_calls([line for p, m in zip(processes, log_marks) for line in p.output[m:]])
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
    with Stack(web_workers=2, separate_worker=True, inline_jobs=True, **settings) as stack:
        setup = (stack.session(11, 9011, finished=False) + stack.session(12, 9012, finished=False)
                 + stack.session(14, 9014, finished=True, archive=archive))
        stack.set_up(setup)
        began = time.monotonic()

        def command(pr: int, body: str):
            return lambda: stack.deliver("issue_comment", stack.comment(pr, body)[1])

        found["stop, first by this user (permission not cached)"] = counted(stack, command(11, "/session stop"),
                                                                  include_verify=True)
        found["stop"] = counted(stack, command(12, "/session stop"), include_verify=True)
        found["log (finished session)"] = counted(stack, command(14, "/session log"))
        found["log again (summary kept)"] = counted(stack, command(14, "/session log"))

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
        seconds = time.monotonic() - began
    return {"operations": found, "fake_problems": problems, "seconds": round(seconds, 1)}


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
            # What a person's command costs as issue 14 counts it: every call but token mints, the
            # status comment and the grace-period check (the 👀 reaction counts).
            "counted": bot["by_kind"]["core"] + bot["by_kind"]["reaction"],
            "counted_calls": " · ".join(f"{c['name']} {c['status']}" for c in bot["calls"]
                                        if c["kind"] in ("core", "reaction")),
            "core": bot["by_kind"]["core"], "core_304": bot["core_304"],
            "calls": " · ".join(f"{c['name']} {c['status']}" for c in bot["calls"] if c["kind"] == "core"),
            "reaction": bot["by_kind"]["reaction"], "status": bot["by_kind"]["status"],
            "grace": bot["by_kind"]["grace"], "token": bot["by_kind"]["token"], "blob": bot["by_kind"]["blob"],
            "api": bot["api"], "rate_limited": bot["api"] - bot["not_modified"],
            "lapsed_api": other["api"], "lapsed_rate_limited": other["api"] - other["not_modified"],
            "naive": naive, "jobs_with_calls": other["jobs_with_calls"],
        })
    return rows


# (operation, most calls as counted, what they may be): issue 14's targets.
TARGETS = (("stop", 3, "`/session stop`, warm: ≤ 3 calls (👀, cancel, reply)"),
           ("stop, first by this user (permission not cached)", 4,
            "`/session stop`, a person's first: ≤ 4 calls (👀, permission, cancel, reply)"),
           ("log (finished session)", 3, "`/session log` of a finished session, first: ≤ 3 calls (👀, download, reply)"),
           ("log again (summary kept)", 2, "`/session log` again: ≤ 2 calls (👀, reply), no download"))


def targets(rows: list[dict], as_built: dict, lapsed: dict) -> list[dict]:
    """Issue 14's targets, through gunicorn with two workers and a separate worker, and the 304s."""
    by = {row["operation"]: row for row in rows}
    found = []
    for operation, most, label in TARGETS:
        row = by.get(operation)
        if row:
            downloads = row["counted_calls"].count("log download")
            met = row["counted"] <= most and (downloads == 0 if operation.startswith("log again") else True)
            found.append({"target": label, "figure": f"{row['counted']} ({row['counted_calls']}); naive {row['naive']}",
                          "met": met})
    later = [row for name, row in by.items() if name.startswith("lifecycle: later")]
    timeline = [c for name, op in lapsed["operations"].items() if name.startswith("lifecycle: later")
                for c in op["calls"] if c["name"] == "timeline"]
    if timeline:
        found.append({"target": "an unchanged timeline costs a 304",
                      "figure": ", ".join(str(c["status"]) for c in timeline)
                      + f" ({sum(r['core_304'] for r in later)} 304s with warm caches)",
                      "met": all(c["status"] == 304 for c in timeline)})
    config = [c for op in as_built["operations"].values() for c in op["calls"] if c["name"] == "config"]
    seconds = as_built["seconds"]
    found.append({"target": "no config file is remembered: its 404 read at most once per cache period by all "
                            "processes together",
                  "figure": f"{len(config)} config reads in the {seconds:g} s of operations (60 s period; the "
                            "set-up read it first)",
                  "met": len(config) <= math.ceil(seconds / 60)})
    comments = [c for name, op in as_built["operations"].items() if not name.startswith("lifecycle")
                for c in op["calls"] if c["name"] == "timeline"]
    found.append({"target": "a command comment triggers no timeline read", "figure": f"{len(comments)} timeline reads",
                  "met": not comments})
    return found


def render(rows: list[dict], data: dict) -> str:
    lines = [
        "Requests to the fake GitHub's API host per operation, on a bot whose jobs land on any of three "
        "processes (gunicorn's two workers and a `bot.worker`) sharing their caches in the database: the "
        "installation token (per process) and, within 60 s, a user's permission and the repository's config "
        "(here: that there is none). **counted** = what a person's command costs as issue 14 counts it: every "
        "call but token mints, the status comment and the grace-period check of a stop (60 s later by "
        "default), so the 👀 reaction counts; **core** = the same without the reaction. Log downloads' "
        "blob-host requests are not API requests and not counted. 304s cost no rate limit.",
        "",
        "| operation | counted | counted requests (this bot) | core | + status comment | + grace check | + token | "
        "rate-limited total | caches lapsed: total (rate-limited) | naive total (all rate-limited) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['operation']} | {r['counted']} | {r['counted_calls'] or '—'} | {r['core']} | "
                     f"{r['status']} | {r['grace']} | {r['token']} | {r['rate_limited']} of {r['api']} | "
                     f"{r['lapsed_api']} ({r['lapsed_rate_limited']}) | {r['naive']} |")
    lifecycle = [r for r in rows if r["operation"].startswith("lifecycle")]
    if lifecycle:
        lines += ["", f"A whole tracked session (the lifecycle rows together): this bot "
                  f"{sum(r['api'] for r in lifecycle)} requests, {sum(r['rate_limited'] for r in lifecycle)} of them "
                  f"against the rate limit; naive {sum(r['naive'] for r in lifecycle)}, all against it."]
    lines += ["", f"The naive model: {NAIVE}", "",
              "Settings: gunicorn with two workers, each running jobs, and one `python -m bot.worker`; SQLite; "
              "defaults otherwise (`TIMELINE_COALESCE_SECONDS=5`, `STATUS_COMMENT_INTERVAL_SECONDS=10`) except "
              "`GITHUB_WRITE_INTERVAL_SECONDS=0.001` (pacing changes no count), `STOP_GRACE_SECONDS=3` (so the "
              "grace check is seen) and periodic missed-delivery recovery off (it is not per operation). "
              "No repository config `.github/session-bot.yml`: its 404 (GitHub gives no ETag to a 404) is "
              "remembered for the cache period like any answer; an unchanged file's re-check is a 304 "
              "(tests/caches/test_repo_configs.py)."]
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
        print(f"  {row['operation']:<52} {row['counted']} call(s) ({row['counted_calls']})  naive {row['naive']}",
              flush=True)
    problems = as_built["fake_problems"] + lapsed["fake_problems"]
    data = {"rows": rows, "as_configured": as_built, "caches_lapsed": lapsed, "naive_model": NAIVE,
            "fake_problems": problems}
    failures = []
    stop = next((r for r in rows if r["operation"] == "stop"), None)
    if stop is None or "cancel" not in stop["calls"]:
        failures.append("api_economy: the stop sent no cancel")
    return {"title": TITLE, "markdown": render(rows, data), "data": data, "targets": targets(rows, as_built, lapsed),
            "failures": failures}


def main(argv: list[str] | None = None) -> int:
    from bench import report

    return report.section_main("api_economy", run, __doc__, "short coalescing windows; asserts no timings", argv)


if __name__ == "__main__":
    sys.exit(main())
