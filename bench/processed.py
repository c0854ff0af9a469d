"""When a burst of deliveries is processed, and whether each was stored and processed exactly once
(bench/throughput.py), on a bench/mixed.py stack, SQLite or PostgreSQL.

"Processed" is the delivery's outcome leaving 'queued' (done, ignored, failed): not every delivery
needs a job (one nobody handles may be marked ignored at intake), so jobs alone cannot tell.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Callable

from bench.mixed import Stack

# Delivery jobs still to run: small rows, found through the (state, run_at) index.
BACKLOG = "SELECT count(*) FROM jobs WHERE kind = 'delivery' AND state IN ('queued', 'running')"
ANY_BUSY = "SELECT 1 FROM jobs WHERE kind = 'delivery' AND state IN ('queued', 'running') LIMIT 1"
# A SQLite row keeps its ~13 KB body before `outcome`, so reading `outcome` walks the body's overflow
# pages: the deliveries are counted once their jobs are done, not at every poll.
QUEUED_SINCE = "SELECT count(*) FROM deliveries WHERE id > :since AND outcome = 'queued'"


def last_delivery_id(stack: Stack) -> int:
    """The newest delivery's id (0 if none): deliveries stored after this point have larger ids."""
    [(newest,)] = stack.sql("SELECT max(id) FROM deliveries")
    return newest or 0


def drain(stack: Stack, since_id: int, load_ended: float, timeout: float, poll: float = 0.05) -> dict:
    """Wait until no delivery job is queued or running and every delivery stored after `since_id` is
    processed. {"seconds": from `load_ended` (time.monotonic()) to the first look that found no delivery
    job left, None if `timeout` passed first; "backlog": delivery jobs still to run at the first look}."""
    [(backlog,)] = stack.sql(BACKLOG)
    while True:
        if not stack.sql(ANY_BUSY):
            settled = time.monotonic()
            # Outcomes never go back to 'queued': one still queued now was queued then (or its request
            # was still in flight), so the count, however long it takes, confirms `settled`.
            [(queued,)] = stack.sql(QUEUED_SINCE, {"since": since_id})
            if queued == 0:
                return {"seconds": round(settled - load_ended, 2), "backlog": backlog}
        if time.monotonic() - load_ended > timeout:
            return {"seconds": None, "backlog": backlog}
        time.sleep(poll)


def tally(stack: Stack, since_id: int, group: Callable[[str], str | None]) -> dict[str, dict]:
    """Per group of delivery ids (`group(guid)`, None: not counted), for deliveries stored after
    `since_id`: rows and distinct ids stored, outcomes, and their `delivery` jobs (how many, retried,
    dead, more than one for a delivery, none)."""
    found: dict[str, dict] = defaultdict(lambda: {"stored": 0, "outcomes": Counter(), "jobs": 0, "retried": 0,
                                                  "dead": 0, "guids": set(), "job_guids": Counter()})
    for guid, outcome in stack.sql("SELECT guid, outcome FROM deliveries WHERE id > :since", {"since": since_id}):
        key = group(guid)
        if key is not None:
            row = found[key]
            row["stored"] += 1
            row["outcomes"][outcome] += 1
            row["guids"].add(guid)
    for guid, state, attempts in stack.sql(
            "SELECT d.guid, j.state, j.attempts FROM jobs j JOIN deliveries d ON d.id = j.delivery_id"
            " WHERE j.kind = 'delivery' AND d.id > :since", {"since": since_id}):
        key = group(guid)
        if key is not None:
            row = found[key]
            row["jobs"] += 1
            row["retried"] += attempts > 1
            row["dead"] += state == "dead"
            row["job_guids"][guid] += 1
    result = {}
    for key, row in found.items():
        outcomes = row["outcomes"]
        result[key] = {
            "stored": row["stored"], "distinct": len(row["guids"]), "outcomes": dict(outcomes),
            "processed": outcomes["done"] + outcomes["ignored"], "failed": outcomes["failed"],
            "queued": outcomes["queued"], "delivery_jobs": row["jobs"], "jobs_retried": row["retried"],
            "jobs_dead": row["dead"], "more_than_one_job": sum(1 for n in row["job_guids"].values() if n > 1),
            "without_job": len(row["guids"] - set(row["job_guids"])),
        }
    return result


def wrk_run_group(guid: str) -> str:
    """wrk's delivery ids are `<run prefix>-<thread>-<n>` (bench/wrk/deliver.lua); stops' `stops-<tag>-<id>`."""
    return guid.rsplit("-", 2)[0]


def problems(label: str, counted: dict, acknowledged: int | None = None, drained: bool = True) -> list[str]:
    """What must not happen to the deliveries of one group, as failures: one not stored of the
    `acknowledged` 2xx, one stored twice, failed, left queued after a finished drain, a delivery job
    retried, dead or doubled."""
    found = []
    if acknowledged is not None and counted.get("stored", 0) < acknowledged:
        found.append(f"{label}: {acknowledged - counted.get('stored', 0)} of {acknowledged} acknowledged deliveries "
                     "not stored")
    if not counted:
        return found
    checks = [("stored more than once", counted["stored"] - counted["distinct"]),
              ("processed with outcome 'failed'", counted["failed"]),
              ("still queued after the drain", counted["queued"] if drained else 0),
              ("`delivery` jobs run more than once (attempts > 1)", counted["jobs_retried"]),
              ("`delivery` jobs dead", counted["jobs_dead"]),
              ("deliveries with more than one `delivery` job", counted["more_than_one_job"])]
    found += [f"{label}: {n} {what}" for what, n in checks if n]
    return found
