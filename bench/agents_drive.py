"""Driving the Agents page's views with wrk for bench/agents_page.py: each view (a cell) probed and checked,
then measured in rounds, the cells' order rotating each round, so a burst of other work on the machine
lands on one round of a few cells; a cell's figures are those of its median round."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import requests

from bench import wrk
from bench.servers import wait_quiet

QUIET = 0.85  # idle share of the CPUs bench.servers.wait_quiet waits for before each cell


@dataclass(frozen=True)
class Cell:
    """One view measured: what is asked, as whom, and what must answer."""

    key: str
    path: str
    viewer: str  # operator | person | nobody
    status: int = 200
    conditional: bool = False  # sent with If-None-Match: the ETag of the answer just before (the page's poll)
    target: bool = False  # a first page: issue 16's targets apply (each 200 of a viewer's is also explained)

    @property
    def label(self) -> str:
        return f"`GET {self.path}`" + (" → 304 (`If-None-Match`)" if self.conditional else "")


CELLS = [
    Cell("healthz", "/healthz", "nobody"),
    Cell("api-operator", "/api/sessions", "operator", target=True),
    Cell("page-operator", "/sessions", "operator", target=True),
    Cell("page-operator-running", "/sessions?state=in_progress", "operator"),
    Cell("poll-operator", "/api/sessions", "operator", status=304, conditional=True),
    Cell("api-person", "/api/sessions", "person", target=True),
    Cell("page-person", "/sessions", "person", target=True),
    Cell("page-person-running", "/sessions?state=in_progress", "person"),
    Cell("poll-person", "/api/sessions", "person", status=304, conditional=True),
]


@dataclass(frozen=True)
class Load:
    """How the cells are driven."""

    seconds: int  # measured per cell and round, after the warm-up
    warmup: int
    rounds: int
    connections: int  # 2: one per gunicorn worker, both always busy, none waiting in the listen queue
    quiet: float  # before each cell, wait up to this long for the CPUs to be idle; 0: not at all


LOADS = {False: Load(seconds=5, warmup=1, rounds=3, connections=2, quiet=10.0),
         True: Load(seconds=1, warmup=1, rounds=1, connections=2, quiet=0.0)}


def drive(base: str, headers: dict[str, dict], person, load: Load, *, tag: str = "") -> tuple[dict, list[str]]:
    """Probe every cell (`headers` per viewer), then measure them round after round: per cell key, its
    figures (the median round's, each round's under "rounds"); and what went wrong."""
    ready, problems = [], []
    for cell in CELLS:
        sent, trouble = probe(base + cell.path, cell, headers[cell.viewer], person)
        problems += [f"{cell.label} as {cell.viewer}: {t}" for t in trouble]
        if sent is not None:
            ready.append((cell, sent))
    rounds: dict[str, list[dict]] = {cell.key: [] for cell, _ in ready}
    for number in range(load.rounds):
        turn = number % len(ready) if ready else 0
        for cell, sent in ready[turn:] + ready[:turn]:
            figures, trouble = measure(base + cell.path, cell, sent, load)
            rounds[cell.key].append(figures)
            problems += [f"{cell.label} as {cell.viewer}: {t}" for t in trouble]
            print(f"{tag}round {number + 1}  {cell.key:<22} {figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f} "
                  f"{figures['rps']:>8.1f}/s{'  (machine busy)' if figures['busy'] else ''}", flush=True)
    return {key: median_round(figures) for key, figures in rounds.items()}, problems


def probe(url: str, cell: Cell, headers: dict, person) -> tuple[dict | None, list[str]]:
    """One request checked (status; the person's list holds only what they may see): the headers to send
    (with If-None-Match for a conditional cell), or None and why the cell cannot be measured."""
    answer = requests.get(url, headers=headers, timeout=60)
    if cell.conditional and answer.status_code == 200 and answer.headers.get("ETag"):
        headers = {**headers, "If-None-Match": answer.headers["ETag"]}
        answer = requests.get(url, headers=headers, timeout=60)
    if answer.status_code != cell.status:
        return None, [f"answered {answer.status_code} (not {cell.status}); not measured"]
    if cell.viewer == "person" and cell.path.startswith("/api/") and cell.status == 200:
        listed = answer.json().get("sessions", [])
        if not listed:
            return headers, [f"the person sees no session (they may see {person.sessions:,})"]
        if any(row["repository"] not in person.repository_names for row in listed):
            return headers, ["the person is shown a session of a repository they cannot access"]
    return headers, []


def measure(url: str, cell: Cell, headers: dict, load: Load) -> tuple[dict, list[str]]:
    """One round of one cell: wait for quiet CPUs, warm up, measure. Its figures, and what went wrong."""
    busy = bool(load.quiet) and wait_quiet(QUIET, timeout=load.quiet) >= load.quiet
    wrk.get(url, headers, load.connections, load.warmup)
    result = wrk.get(url, headers, load.connections, load.seconds)
    wrong = {status: count for status, count in result["statuses"].items() if int(status) != cell.status}
    problems = []
    if wrong or result["errors"]:
        problems.append(f"answers other than {cell.status}: {wrong or {}}, socket errors/timeouts: {result['errors']}")
    return {"p50_ms": result["p50_us"] / 1000, "p90_ms": result["p90_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "max_ms": result["max_us"] / 1000, "rps": round(result["rps"], 1), "requests": result["requests"],
            "bytes_per_answer": round(result["bytes"] / max(result["requests"], 1)), "statuses": result["statuses"],
            "busy": busy}, problems


def median_round(rounds: list[dict]) -> dict:
    """A cell's figures over its rounds: the median of each, the worst p99, busy when most rounds were."""
    return {"p50_ms": statistics.median(r["p50_ms"] for r in rounds),
            "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
            "rps": statistics.median(r["rps"] for r in rounds),
            "worst_p99_ms": max(r["p99_ms"] for r in rounds),
            "requests": sum(r["requests"] for r in rounds),
            "busy": sum(r["busy"] for r in rounds) * 2 > len(rounds), "rounds": rounds}
