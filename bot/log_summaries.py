"""Download a finished session's agent log from GitHub and summarise it in a child process, on a budget."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import zipfile
from pathlib import Path
from typing import IO, Iterator

from bot.errors import PermanentError, TransientError
from bot.github import api
from bot.github.client import Client
from bot.github.errors import BlobMissing, GitHubError
from bot.logs import isolate
from bot.logs.summary import Summary

logger = logging.getLogger(__name__)

# Where `python -m bot.logs.child` finds the package, whatever the parent's working directory.
_ROOT = str(Path(__file__).resolve().parents[1])


class LogNotReady(PermanentError):
    """GitHub has no log for this run or job yet: it writes them only when the job ends."""


class SummaryTimeout(PermanentError):
    """Summarising ran past its budget and was killed; trying again would take as long."""


class SummaryFailed(PermanentError):
    """The summariser's process died (out of memory, a crash); trying again would do the same."""


def summarise_run(client: Client, repo: str, run_id: int, *, budget: float) -> Summary:
    """The Summary of run `run_id`'s agent log ("owner/name" `repo`); LogNotReady while it runs.

    The download happens here; the parsing in a child process (bot/logs/child.py) killed after
    `budget` seconds: SummaryTimeout then, SummaryFailed when it dies on its own.
    """
    with _download(client, repo, run_id) as spool:
        if not zipfile.is_zipfile(spool):
            raise TransientError(f"the log archive of run {run_id} is not a zip")
        spool.rollover()  # onto disk (if it is not there yet): the child reads it through its descriptor
        fd = spool.fileno()
        try:
            out = isolate.run([sys.executable, "-m", "bot.logs.child", str(fd), repr(budget)], budget,
                              pass_fds=[fd], cwd=_ROOT)
        except (isolate.Overrun, isolate.Crashed) as exc:
            failure = SummaryTimeout if isinstance(exc, isolate.Overrun) else SummaryFailed
            message = f"summarising the log of run {run_id} of {repo}: {exc}"
            # Logged here: the command answers these with a reply, so no job failure reports them.
            logger.warning("%s", message)
            raise failure(message) from exc
    return Summary.from_dict(json.loads(out))


@contextlib.contextmanager
def _download(client: Client, repo: str, run_id: int) -> Iterator[IO[bytes]]:
    what = f"run {run_id} of {repo}"
    try:
        spool = api.download_run_logs(client, repo, run_id)
    except GitHubError as exc:
        if exc.status == 404:
            raise LogNotReady(f"no log yet for {what} (GitHub writes it when the job ends)") from exc
        raise
    except BlobMissing as exc:  # while a job runs, its log redirects to a blob not written yet
        raise LogNotReady(f"no log yet for {what} (GitHub writes it when the job ends)") from exc
    with spool:
        yield spool
