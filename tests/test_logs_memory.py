"""A 50 MB agent log is streamed, never held whole: summarising it adds little resident memory,
counting the whole of the child process that summarises it.

Memory, unlike time, does not depend on how busy the machine is, so it is asserted here; the
timing figures live in bench/summarise_log.py, which this test also runs (its `--measure` mode,
in a fresh process, so the generator's allocations do not count).
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.agentlogs import run_logs_zip, write_agent_log

BENCH = Path(__file__).parents[1] / "bench" / "summarise_log.py"


def test_a_50_mb_log_is_summarised_in_bounded_memory(tmp_path):
    step, archive = tmp_path / "agent.log", tmp_path / "logs.zip"
    with open(step, "wb") as sink:
        written = write_agent_log(sink, 50 * 2**20)
    with open(step, "rb") as source, open(archive, "wb") as sink:
        run_logs_zip(source, sink)

    figures = json.loads(subprocess.run([sys.executable, str(BENCH), "--measure", str(archive)], check=True,
                                        capture_output=True, text=True).stdout)

    assert written >= 50 * 2**20
    assert figures["extra_rss_mb"] < 50, figures
    assert figures["child_peak_rss_mb"] > 5, "the summariser's own process counts in the figure"
    assert figures["tool_calls"] > 10_000 and figures["comment_chars"] <= 65_536
