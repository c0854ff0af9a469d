"""Memory: resident set (VmRSS) of every bot process idle, under intake load, and while it summarises a
50 MB agent log; and the summary's own peak extra memory measured alone (bench/summarise_log.py).

    .venv/bin/python -m bench.memory [--smoke] [--out DIR]   # this section alone

Processes: the gunicorn arbiter, its workers (the arbiter's children; with SQLite they also run the
job threads), and on PostgreSQL one `python -m bot.worker`. RSS is read from /proc/<pid>/status; a
worker's figure includes its children's, the process that summarises a log (bot/logs/child.py).
"""

from __future__ import annotations

import sys
import threading
import time

from bench import summarise_log
from bench.background import Background
from bench.commands import log_once, make_archive
from bench.harness import SECRET, Stack
from bench.servers import pg_required

TITLE = "Memory: RSS per process idle, under load, and while summarising a 50 MB log"
EXTRA_MB = 50  # target: summarising a 50 MB log adds less than this
LOG_MB = {False: 50, True: 5}
LOAD = {False: (100.0, 10.0), True: (20.0, 2.0)}  # (deliveries/s, seconds)


class Sampler:
    """Samples the RSS of a stack's processes every `interval` seconds; keeps each one's peak."""

    def __init__(self, stack: Stack, interval: float):
        self.stack, self.interval = stack, interval
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            for label, mb in self.stack.rss().items():
                self.peak[label] = max(self.peak.get(label, 0.0), mb)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def measure(database: str, smoke: bool) -> dict:
    separate = database == "pg"
    settings = {"GITHUB_WRITE_INTERVAL_SECONDS": 0.001} if smoke else {}
    archive = make_archive(LOG_MB[smoke])
    warm = make_archive(0.5)
    with Stack(database=database, separate_worker=separate, config_file="status_comment: false\n",
               **settings) as stack:
        stack.set_up(stack.session(100, 50_100, finished=True, archive=warm)
                     + stack.session(101, 50_101, finished=True, archive=archive))
        log_once(stack, 100, 50_100, gap=0.0)  # every code path of a command imported and warm
        time.sleep(1.0)
        idle = stack.rss()
        rate, seconds = LOAD[smoke]
        with Background(stack.webhook_url, stack.background_bodies(), SECRET, rate) as load, \
                Sampler(stack, 0.25) as under_load:
            time.sleep(seconds)
        stack.settle(timeout=300)
        time.sleep(0.5)
        before = stack.rss()
        with Sampler(stack, 0.02) as summarising:
            timing = log_once(stack, 101, 50_101, gap=0.0)
        after = stack.rss()
    extra = {label: round(summarising.peak.get(label, 0.0) - before.get(label, 0.0), 1) for label in before}
    return {"database": database, "idle_mb": idle, "under_load_peak_mb": under_load.peak, "load": load.result,
            "before_log_mb": before, "summarising_peak_mb": summarising.peak, "after_log_mb": after,
            "summarising_extra_mb": extra, "log_mb": LOG_MB[smoke], "log_reply_ms": round(timing["reply_ms"])}


def render(data: dict) -> str:
    lines = ["RSS (VmRSS, MB) of each process serving the bot. Idle: after one warm-up command. Under load: the "
             "peak of samples every 0.25 s while bench/background.py sends signed deliveries (plain PR comments, "
             "CI jobs) at a steady rate. Summarising: the peak of samples every 20 ms during one `/session log` "
             "of a finished session whose log is the size shown, minus the process's RSS just before; a "
             "worker's figures include its summariser child's (bot/logs/child.py), which does that work.", ""]
    for key, found in data["stacks"].items():
        if "error" in found:
            lines += [f"### {key}", "", f"Not measured: {found['error']}", ""]
            continue
        load = found["load"]
        lines += [f"### {key}", "",
                  f"Load: {load.get('rate_sent', '?')} deliveries/s for {load.get('seconds', '?')} s. "
                  f"`/session log` of a {found['log_mb']} MB log: reply after {found['log_reply_ms']} ms.", "",
                  "| process | idle MB | peak under load MB | before the log MB | peak while summarising MB "
                  "| extra MB |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for label in found["idle_mb"]:
            lines.append(f"| {label} | {found['idle_mb'][label]} | {found['under_load_peak_mb'].get(label, '—')} | "
                         f"{found['before_log_mb'].get(label, '—')} | {found['summarising_peak_mb'].get(label, '—')} | "
                         f"{found['summarising_extra_mb'].get(label, '—')} |")
        lines.append("")
    alone = data["alone"]
    lines += ["### Summarising alone (bench/summarise_log.py)", "",
              f"A {alone['log_mb']} MiB agent log ({alone['lines']} lines, {alone['tool_calls']} tool calls, zipped "
              f"{alone['zipped_mb']} MiB) fetched from a spooled archive, parsed, summarised and rendered in a fresh "
              f"process: **{alone['seconds']} s** wall ({alone['cpu_seconds']} s CPU), peak extra RSS "
              f"**{alone['extra_rss_mb']} MB**: the parent's growth {alone['parent_extra_rss_mb']} MB plus the "
              f"summariser child's whole peak {alone['child_peak_rss_mb']} MB"
              + ("" if alone["peak_reset"] else " (VmHWM not resettable: an upper bound)")
              + f", a {alone['comment_chars']}-character comment."]
    return "\n".join(lines) + "\n"


def run(smoke: bool) -> dict:
    data = {"stacks": {}}
    for database, key in (("sqlite", "SQLite, job threads in the 2 gunicorn workers"),
                          ("pg", "PostgreSQL, 2 gunicorn workers + one `python -m bot.worker`")):
        print(f"memory: {key}", flush=True)
        try:
            data["stacks"][key] = measure(database, smoke)
        except RuntimeError as exc:
            if database == "pg" and "unavailable" in str(exc) and not pg_required():
                data["stacks"][key] = {"error": str(exc)}
                continue
            raise
    data["alone"] = summarise_log.measure_fresh(LOG_MB[smoke])
    alone = data["alone"]
    found_targets = [
        {"target": f"summarising a {alone['log_mb']:.0f} MB log alone adds < {EXTRA_MB} MB RSS",
         "figure": f"{alone['extra_rss_mb']} MB", "met": alone["extra_rss_mb"] < EXTRA_MB},
        {"target": f"a {alone['log_mb']:.0f} MB log summarised alone < 1.5 s", "figure": f"{alone['seconds']} s",
         "met": alone["seconds"] < 1.5}]
    for key, found in data["stacks"].items():
        if "summarising_extra_mb" in found:
            worst = max(found["summarising_extra_mb"].values())
            found_targets.append({"target": f"{key}: a {found['log_mb']} MB `/session log` adds < {EXTRA_MB} MB to "
                                  "any process", "figure": f"{worst} MB at most", "met": worst < EXTRA_MB})
    return {"title": TITLE, "markdown": render(data), "data": data, "targets": found_targets, "failures": []}


def main(argv: list[str] | None = None) -> int:
    from bench import report

    return report.section_main("memory", run, __doc__, "a 5 MB log, short load; asserts no timings", argv)


if __name__ == "__main__":
    sys.exit(main())
