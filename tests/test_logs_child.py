"""The summariser's child process: which archive members it reads, and the JSON it answers with."""

import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from bot.logs.child import agent_members, agent_stream, summarise_archive
from bot.logs.summary import Summary
from tests.agentlogs import AgentLog, run_logs_zip, session

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def agent_log() -> bytes:
    log = AgentLog()
    session(log, turns=3)
    return log.sink.getvalue()


def test_an_archive_without_an_agent_step_falls_back_to_the_jobs_whole_log(agent_log):
    archive = io.BytesIO(run_logs_zip(agent_log, agent_member=None))
    with zipfile.ZipFile(archive) as opened, agent_stream(opened) as stream:
        assert b"Current runner version" in stream.readline()
    assert summarise_archive(archive).final_message.startswith("I fixed the parser")


@pytest.mark.parametrize("names, picked", [
    (["0_copilot.txt", "copilot/1_Set up job.txt", "copilot/3_Processing Request.txt"],
     ["copilot/3_Processing Request.txt"]),
    (["copilot/5_Processing Request.txt", "copilot/3_Processing Request.txt"],
     ["copilot/3_Processing Request.txt", "copilot/5_Processing Request.txt"]),
    (["1_copilot.txt", "copilot/1_Set up job.txt"], ["1_copilot.txt"]),
    (["copilot/1_Set up job.txt"], ["copilot/1_Set up job.txt"]),
    ([], []),
])
def test_which_archive_members_hold_the_agent(names, picked):
    assert agent_members(names) == picked


def test_the_child_reads_an_inherited_descriptor_and_answers_the_summary_as_json(agent_log):
    with tempfile.TemporaryFile() as file:
        file.write(run_logs_zip(agent_log))
        file.seek(5)  # the parent's offset does not matter: the child starts at the beginning
        out = subprocess.run([sys.executable, "-m", "bot.logs.child", str(file.fileno()), "30"], cwd=ROOT,
                             pass_fds=[file.fileno()], capture_output=True, check=True).stdout

    summary = Summary.from_dict(json.loads(out))
    assert summary.final_message.startswith("I fixed the parser") and summary.tests.total == 6
