"""`/session stop` commands sent while a burst of deliveries is under way, each timed from its POST to
the fake GitHub receiving the cancel of the session's run (bench/throughput.py).

Each stop is for a session of its own on an installation of its own (bench/mixed.py's: a Copilot pull
request #7 with its run in progress), given by a person of its own with write access: the write pacing
(per installation) and COMMAND_RATE_LIMIT (per person) then hold no stop behind another, so what is
timed is the way through a busy bot.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from bench import mixed
from tests.copilot_pr import comment_payload
from tests.fakegithub import payloads


@dataclass
class Stop:
    """One `/session stop`: whose, when into the load it is sent, and what came of it."""

    install: mixed.Install
    payload: dict
    offset: float                  # seconds after the load's start
    delivery: str
    posted: float | None = None    # time.time() just before the POST
    status: int | None = None      # the webhook's answer (0: none)
    ack_ms: float | None = None
    cancel_ms: float | None = None  # POST → the cancel reached the fake; None: it never did

    @property
    def cancel_path(self) -> str:
        return f"/repos/{self.install.repo}/actions/runs/{self.install.run['id']}/cancel"


def prepare(stack: mixed.Stack, installs: list[mixed.Install], seconds: float, tag: str) -> list[Stop]:
    """A stop for each of `installs`, spread evenly over a load of `seconds` (the comments are made at the
    fake now, so nothing but the POST happens during the load)."""
    stops = []
    for n, inst in enumerate(installs):
        login = f"stopper-{inst.id}"
        stack.fake.permissions[(inst.repo.lower(), login)] = "write"
        _, payload = comment_payload(stack.fake, "/session stop", login=login, installation=inst.id,
                                     repo=inst.repo, pr=mixed.PR)
        stops.append(Stop(inst, payload, (n + 0.5) * seconds / len(installs), f"stops-{tag}-{uuid.uuid4().hex[:8]}"))
    return stops


class Sending(threading.Thread):
    """POSTs each stop at its offset after `t0` (time.monotonic()), one connection each, as GitHub does."""

    def __init__(self, stack: mixed.Stack, stops: list[Stop], t0: float):
        super().__init__(daemon=True, name="bench-stops")
        self.stack, self.stops, self.t0 = stack, stops, t0
        self.url = stack.bot.webhook_url

    def run(self) -> None:
        for stop in self.stops:
            time.sleep(max(0.0, self.t0 + stop.offset - time.monotonic()))
            stop.posted = time.time()
            try:
                answer = payloads.deliver(self.url, "issue_comment", stop.payload, mixed.SECRET, delivery=stop.delivery)
                stop.status = answer.status_code
            except OSError:
                stop.status = 0  # reported as an unanswered stop; its cancel is still looked for
            stop.ack_ms = (time.time() - stop.posted) * 1000


def time_cancels(stack: mixed.Stack, stops: list[Stop], timeout: float) -> None:
    """Set each stop's `cancel_ms` from the arrival stamp of its cancel at the fake, waiting up to
    `timeout` seconds for those still to come."""
    deadline = time.monotonic() + timeout
    waiting = [stop for stop in stops if stop.posted is not None]
    while waiting and time.monotonic() < deadline:
        requests = list(stack.fake.requests)
        for stop in list(waiting):
            arrived = next((r.at for r in requests if r.method == "POST" and r.path == stop.cancel_path
                            and r.at >= stop.posted), None)
            if arrived is not None:
                stop.cancel_ms = (arrived - stop.posted) * 1000
                waiting.remove(stop)
        if waiting:
            time.sleep(0.05)
