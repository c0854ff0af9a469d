"""The rendered `/session log` comment: readable sections, nothing raw from the log, always postable."""

import io
import re

import pytest

from bot.logs.reader import read_events
from bot.logs.render import MAX_CHARS, format_duration, size, summary_markdown
from bot.logs.summary import summarise
from tests.agentlogs import WORKDIR, AgentLog, session, write_agent_log
from tests.markdown_oracle import live

GHP = "ghp_" + "Q1w2E3r4T5" * 4
RUN = "https://github.com/octo-org/hello/actions/runs/9"
LOG = "https://github.com/octo-org/hello/actions/runs/9/job/11"


def rendered(log_or_stream, **kw) -> str:
    stream = log_or_stream.stream() if isinstance(log_or_stream, AgentLog) else log_or_stream
    options = {"state": "completed", "duration": 754, "run_url": RUN, "log_url": LOG, **kw}
    return summary_markdown(summarise(read_events(stream)), **options)


def test_headline_says_state_duration_model_and_tokens():
    log = AgentLog()
    session(log, turns=2)
    headline = rendered(log).split("\n\n")[0]
    assert "✅ **completed** · in 12m 34s · model `claude-sonnet-4` ·" in headline
    assert re.search(r"[\d.]+[kM]? tokens \([\d.]+[kM]? in, [\d.]+[kM]? out, \d+ requests\)", headline)
    assert f"[run]({RUN})" in headline and f"[log]({LOG})" in headline
    assert "**Fix the parser**" in headline


def test_sections_are_collapsible_and_balanced():
    log = AgentLog()
    session(log, turns=4)
    body = rendered(log)
    summaries = re.findall(r"<summary>(.*?)</summary>", body)
    assert summaries == ["Progress: 2 reports", "Files: 8 created, 8 edits, 9 reads",
                         "Commands: 16 run, 8 test runs, ❌ 2 failed", "Final message"]
    assert body.count("<details") == body.count("</details>") == 4


def test_files_outside_the_checkout_are_listed_apart_by_their_whole_path():
    log = AgentLog()
    log.tool("create", "ok", path=f"{WORKDIR}/src/fix.py", file_text="")
    log.tool("create", "ok", path="/home/runner/work/_temp/repro.py", file_text="")
    log.tool("str_replace", "ok", path="/home/runner/work/_temp/repro.py", old_str="a", new_str="b")
    log.tool("view", "listing", path="/home/runner/work/hello")
    body = rendered(log)
    assert "<summary>Files: 2 created, 1 edit, 1 read</summary>" in body
    assert "**Created** (1)\n- `src/fix.py`\n\n" in body
    assert ("**Outside the repository** (2)\n- `/home/runner/work/_temp/repro.py` (created)\n"
            "- `/home/runner/work/hello` (read)\n\n</details>") in body


def test_failed_test_runs_show_their_failing_lines():
    log = AgentLog()
    log.bash("python -m pytest -q", "FAILED tests/test_a.py::test_x - assert 1 == 2\n1 failed in 0.1s", exit_code=1)
    log.bash("npm test", "Tests: 3 passed")
    body = rendered(log)
    assert "- ❌ `python -m pytest -q` (exit 1)" in body
    assert "  FAILED tests/test_a.py::test_x - assert 1 == 2" in body
    assert "- ✅ `npm test`" in body


def test_errors_and_unfinished_sessions_are_said():
    log = AgentLog()
    log.tool("think", "ok", say="Running the slow tests now.", thought="hm")
    log.chunk([{"delta": {"role": "assistant", "content": "Cut"}, "finish_reason": "length"}])
    log.malformed()
    body = rendered(log, state="cancelled", duration=None)
    assert body.startswith("### Copilot session log\n⏹️ **cancelled** · ")
    assert "<summary>Last message (the agent did not finish)</summary>" in body
    assert "- The model stopped early\\: length" in body  # escaped like all text of the log
    assert "skipped 1 malformed lines" in body


@pytest.mark.parametrize("where", ["bash output", "final message", "commit message", "command", "file path"])
def test_a_planted_token_and_mention_never_reach_the_comment_raw(where):
    planted = f"{GHP} thanks @someone, see #12 <img src=x>"
    log = AgentLog()
    if where == "bash output":
        log.bash("python -m pytest", f"FAILED {planted}", exit_code=1)
    elif where == "commit message":
        log.tool("report_progress", "ok", commitMessage=planted, prDescription=planted)
    elif where == "command":
        log.bash(f"echo {planted}", "", exit_code=1)
    elif where == "file path":
        log.tool("create", "ok", path=f"{WORKDIR}/{planted}", file_text="")
    log.final(planted if where == "final message" else "Done.")

    for full in (False, True):
        body = rendered(log, full=full)
        assert GHP not in body and GHP[4:20] not in body
        shown = live(body)  # as GitHub's renderer makes it
        assert shown.mentions == [] and shown.references == [] and shown.images == []
        assert "img" not in shown.elements


def test_a_huge_log_renders_within_githubs_limit(tmp_path):
    path = tmp_path / "agent.log"
    with open(path, "wb") as sink:
        write_agent_log(sink, 6 << 20)
    for full in (False, True):
        with open(path, "rb") as stream:
            body = rendered(stream, full=full)
        assert size(body) <= MAX_CHARS
        assert "more (see [the full log](" in body
        assert body.count("<details") == body.count("</details>")
        assert body.count("```") % 2 == 0


def test_a_final_message_longer_than_its_budget_is_cut_with_a_link():
    log = AgentLog()
    log.final("\n".join(f"line {n}: " + "ab " * 30 for n in range(2000)))
    body = rendered(log, full=True)
    assert size(body) <= MAX_CHARS
    assert f"… (cut short: see [the full log]({LOG}))" in body


def test_text_github_counts_double_still_fits():
    log = AgentLog()
    log.final("😀" * 40_000)
    assert size(rendered(log, full=True)) <= MAX_CHARS


@pytest.mark.parametrize("seconds, text", [(45, "45s"), (754, "12m 34s"), (3720, "1h 02m")])
def test_durations(seconds, text):
    assert format_duration(seconds) == text


def test_an_empty_log_still_renders_a_headline():
    body = rendered(io.BytesIO(b""), state="failure", duration=3)
    assert body.startswith("### Copilot session log\n❌ **failure** · in 3s")


def test_absurd_tool_and_model_names_cannot_push_the_comment_over_the_limit():
    log = AgentLog(model="m" * 100_000)
    for n in range(150):
        log.tool(f"{n}-" + "t" * 50_000, "ok")
    body = rendered(log, full=True)
    assert size(body) <= MAX_CHARS
