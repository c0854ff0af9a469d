"""Benchmark: summarise a 50 MB agent log from a spooled run archive; wall time and peak extra RSS.

    .venv/bin/python -m bench.summarise_log [--mb 50]

`make bench` reports it in the memory section (bench/memory.py). Targets: under 1.5 s and under
50 MB of extra resident memory, counting both processes: the parent's growth (download spool,
rendering) plus the whole peak RSS of the summariser's child (bot/logs/child.py), which does the
work. The measurement runs in a fresh process, so nothing the generator allocated counts against it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import children  # noqa: E402
from bot.log_summaries import summarise_run  # noqa: E402
from bot.logs.render import summary_markdown  # noqa: E402
from tests.agentlogs import run_logs_zip, write_agent_log  # noqa: E402


BUDGET = 60.0  # LOG_SUMMARY_BUDGET_SECONDS's default


class _SpooledClient:
    """Stands in for bot.github.client.Client once the download is spooled: no network in the figures."""

    def __init__(self, archive: Path):
        self.archive = archive

    def download(self, path: str) -> tempfile.SpooledTemporaryFile:
        """The archive copied into a spool the way Client.download fills one (1 MiB in memory, then disk)."""
        spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
        with open(self.archive, "rb") as source:
            shutil.copyfileobj(source, spool, 64 * 1024)
        spool.seek(0)
        return spool


def _status(field: str, pid: int | str = "self") -> int:
    """A /proc/<pid>/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


class _ChildPeak:
    """The highest VmHWM of this process's children, sampled every 5 ms while they run.

    getrusage's ru_maxrss cannot tell: it counts the parent's pages the child shared between
    fork and exec. VmHWM only grows, so the last sample before the child exits is its peak but
    for its final 5 ms (writing the summary out). A child not yet exec'd (its command line still
    ours) is skipped: its VmHWM is still the parent's, and on a busy machine a sample can land there.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ours = Path("/proc/self/cmdline").read_bytes()
        while not self._stop.wait(0.005):
            for child in children(os.getpid()):
                try:
                    if Path(f"/proc/{child}/cmdline").read_bytes() == ours:
                        continue  # between fork and exec
                    self.peak = max(self.peak, _status("VmHWM", child))
                except (OSError, KeyError):
                    pass  # it exited meanwhile (a zombie has no VmHWM)

    def __enter__(self) -> "_ChildPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _reset_peak() -> bool:
    """Make VmHWM start again from the current RSS (Linux 4.0+); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(archive: Path) -> dict:
    """Fetch from the spool, parse, summarise and render once; the figures as a dict."""
    client = _SpooledClient(archive)
    reset = _reset_peak()
    before_rss, before_peak = _status("VmRSS"), _status("VmHWM")
    started, cpu = time.perf_counter(), time.process_time()
    with _ChildPeak() as child:
        summary = summarise_run(client, "octo-org/hello", 1, budget=BUDGET)
    body = summary_markdown(summary, state="completed", duration=1234, run_url="https://github.com/o/r/actions/runs/1",
                  log_url="https://github.com/o/r/actions/runs/1/job/2", full=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the only child: the summariser
    cpu += reaped.ru_utime + reaped.ru_stime
    parent_mb, child_mb = (_status("VmHWM") - (before_rss if reset else before_peak)) / 2**20, child.peak / 2**20
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "extra_rss_mb": round(parent_mb + child_mb, 1),
            "parent_extra_rss_mb": round(parent_mb, 1), "child_peak_rss_mb": round(child_mb, 1),
            "peak_reset": reset, "comment_chars": len(body), "tool_calls": sum(summary.tools.values()),
            "lines": summary.stats.lines}


def measure_fresh(mb: float) -> dict:
    """Generate an agent log of `mb` MiB, zip it as GitHub does, and measure it in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        step, archive = Path(tmp, "agent.log"), Path(tmp, "logs.zip")
        with open(step, "wb") as sink:
            written = write_agent_log(sink, int(mb * 2**20))
        with open(step, "rb") as source, open(archive, "wb") as sink:
            run_logs_zip(source, sink)
        out = subprocess.run([sys.executable, __file__, "--measure", str(archive)], check=True,
                             capture_output=True, text=True).stdout
        figures = json.loads(out)
        figures.update(log_mb=round(written / 2**20, 1), zipped_mb=round(archive.stat().st_size / 2**20, 1))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50, help="size of the agent's step log in MiB")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the fresh process's entry
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    figures = measure_fresh(args.mb)
    print(f"agent log {figures['log_mb']:.1f} MiB ({figures['lines']} lines, {figures['tool_calls']} tool calls), "
          f"zipped {figures['zipped_mb']:.1f} MiB")
    print(f"wall time {figures['seconds']:.2f} s (target < 1.5 s; CPU {figures['cpu_seconds']:.2f} s with the child's), "
          f"peak extra RSS {figures['extra_rss_mb']:.1f} MB = parent {figures['parent_extra_rss_mb']:.1f} MB "
          f"+ child {figures['child_peak_rss_mb']:.1f} MB "
          f"(target < 50 MB{'' if figures['peak_reset'] else '; VmHWM could not be reset: upper bound'}), "
          f"comment {figures['comment_chars']} chars")


if __name__ == "__main__":
    main()
