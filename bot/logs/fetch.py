"""Download a finished session's agent log from GitHub and stream it, never holding it whole."""

from __future__ import annotations

import contextlib
import io
import zipfile
from typing import IO, Iterator

from bot.errors import PermanentError, TransientError
from bot.github.client import Client
from bot.github.errors import BlobMissing, GitHubError
from bot.logs.parse import parse
from bot.logs.summary import Summary, summarise

AGENT_STEP = "Processing Request.txt"


class LogNotReady(PermanentError):
    """GitHub has no log for this run or job yet: it writes them only when the job ends."""


def summarise_run(client: Client, repo: str, run_id: int) -> Summary:
    """The Summary of run `run_id`'s agent log ("owner/name" `repo`); LogNotReady while it runs."""
    with open_run_log(client, repo, run_id) as stream:
        return summarise(parse(stream))


def summarise_job(client: Client, repo: str, job_id: int) -> Summary:
    """The Summary of job `job_id`'s log; LogNotReady while it runs."""
    with open_job_log(client, repo, job_id) as stream:
        return summarise(parse(stream))


@contextlib.contextmanager
def open_run_log(client: Client, repo: str, run_id: int) -> Iterator[IO[bytes]]:
    """The agent's step log from the run's archive, as a binary stream read from the spooled zip."""
    with _download(client, f"/repos/{repo}/actions/runs/{run_id}/logs") as spool:
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile as exc:
            raise TransientError(f"the log archive of run {run_id} is not a zip: {exc}") from exc
        with archive:
            with _Members(archive, agent_members(archive.namelist())) as stream:
                yield stream


@contextlib.contextmanager
def open_job_log(client: Client, repo: str, job_id: int) -> Iterator[IO[bytes]]:
    """A job's plain-text log, as a binary stream read from the spool."""
    with _download(client, f"/repos/{repo}/actions/jobs/{job_id}/logs") as spool:
        yield spool


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


@contextlib.contextmanager
def _download(client: Client, path: str) -> Iterator[IO[bytes]]:
    try:
        spool = client.download(path)
    except GitHubError as exc:
        if exc.status == 404:
            raise LogNotReady(f"no log yet at {path} (GitHub writes it when the job ends)") from exc
        raise
    except BlobMissing as exc:  # while a job runs, its log redirects to a blob not written yet
        raise LogNotReady(f"no log yet at {path} (GitHub writes it when the job ends)") from exc
    with spool:
        yield spool


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
