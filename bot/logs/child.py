"""The summariser's own process: a run's downloaded log archive in, its Summary out as JSON.

    python -m bot.logs.child FD BUDGET

reads the zip from the inherited file descriptor FD, summarises the agent's lines and writes
`Summary.to_dict()` as JSON to stdout. Nothing else: bot/log_summaries.py downloads, and
bot/logs/isolate.py runs this under a wall-clock budget of BUDGET seconds.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import sys
import zipfile
from typing import IO, BinaryIO

from bot import faults
from bot.logs.reader import read_events
from bot.logs.summary import Summary, summarise

AGENT_STEP = "Processing Request.txt"


def summarise_archive(file: BinaryIO) -> Summary:
    """The Summary of the agent's lines in a run's log archive (a seekable zip file)."""
    with zipfile.ZipFile(file) as archive, agent_stream(archive) as stream:
        return summarise(read_events(stream))


def agent_stream(archive: zipfile.ZipFile) -> "_Members":
    """The agent's lines from the archive's members (`agent_members`), as one binary stream."""
    return _Members(archive, agent_members(archive.namelist()))


def agent_members(names: list[str]) -> list[str]:
    """Which archive members hold the agent's lines, in order.

    The agent's own step file(s) when there are any; otherwise each job's whole log (the
    top-level `N_job.txt` files, setup included, which the parser skips as noise).
    """
    steps = sorted(n for n in names if n.endswith(AGENT_STEP))
    if steps:
        return steps
    jobs = sorted(n for n in names if "/" not in n and n.endswith(".txt"))
    return jobs or sorted(n for n in names if n.endswith(".txt"))


class _Members:
    """Archive members read one after the other as one stream of lines (readline only)."""

    def __init__(self, archive: zipfile.ZipFile, names: list[str]):
        self._archive = archive
        self._names = iter(names)
        self._current: IO[bytes] | None = None
        self._next()

    def _next(self) -> None:
        if self._current is not None:
            self._current.close()
        name = next(self._names, None)
        # ZipExtFile.readline is Python code; a BufferedReader's is C, and four times faster here.
        self._current = io.BufferedReader(self._archive.open(name), 1 << 16) if name is not None else None

    def readline(self, limit: int = -1) -> bytes:
        """The next line (at most `limit` bytes) across members; b"" at the end of the last."""
        while self._current is not None:
            line = self._current.readline(limit)
            if line:
                return line
            self._next()
        return b""

    def __enter__(self) -> "_Members":
        return self

    def __exit__(self, *exc) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


def main(argv: list[str]) -> int:
    """Summarise the archive at file descriptor argv[1]; argv[2] is the budget in seconds."""
    fd, budget = int(argv[1]), float(argv[2])
    # The parent kills this process at the budget. Should the parent die first, the kernel still
    # ends it once it has used a little more CPU time than that (a stuck summariser is CPU-bound).
    limit = math.ceil(budget) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit))
    faults.point("logs.summarise")
    # The descriptor shares its file offset with the parent's, which does not read it meanwhile.
    with os.fdopen(fd, "rb") as file:
        file.seek(0)
        summary = summarise_archive(file)
    json.dump(summary.to_dict(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
