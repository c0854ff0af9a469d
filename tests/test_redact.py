"""Secrets are redacted, and text quoted from a log can neither ping, cross-link nor inject markup."""

import json
import logging

import pytest

from bot import log
from bot.redact import ZWSP, code_block, code_span, neutralise, one_line, redact

GHP = "ghp_" + "A1b2C3d4E5" * 4
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nq2bO9x\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0IiwiZXhwIjoxfQ.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.parametrize("text, secret", [
    (f"remote: {GHP}", GHP),
    ("gho_" + "x" * 36, "x" * 36),
    ("ghu_" + "y" * 36, "y" * 36),
    ("ghs_" + "z" * 36, "z" * 36),
    ("ghr_" + "w" * 36, "w" * 36),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("ASIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"),
    (f"aws_secret_access_key = {SECRET_KEY}", SECRET_KEY),
    (f"AWS_SECRET_ACCESS_KEY: {SECRET_KEY}", SECRET_KEY),
    (f"before\n{PEM}\nafter", "MIIEpAIBAAKCAQEA7"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA (cut short)", "b3BlbnNzaC1rZXktdjEAAAA"),
    ("q2bO9xMIIEpAIBAAK\n-----END PRIVATE KEY-----", "q2bO9xMIIEpAIBAAK"),
    ("Authorization: Bearer abcDEF123.456-xyz", "abcDEF123.456-xyz"),
    ("Authorization: token 0123456789abcdef0123456789", "0123456789abcdef0123456789"),
    ("mysql -u root password=hunter2 -h db", "hunter2"),
    ("DB_PASSWORD: s3cr3t!", "s3cr3t!"),
    ('{"password": "p@ss \\"word\\""}', "p@ss"),
    ("token='abc123'", "abc123"),
    ("GITHUB_TOKEN=abc123def", "abc123def"),
    ("client_secret=xyz789", "xyz789"),
    (f"jwt {JWT}", JWT),
    ("git push https://x-access-token:hunter2@github.com/o/r", "hunter2"),
])
def test_secrets_are_redacted(text, secret):
    redacted = redact(text)
    assert secret not in redacted
    assert "[redacted]" in redacted


@pytest.mark.parametrize("text", [
    "ordinary output: 3 passed in 0.4s",
    "see https://github.com/octo-org/hello/pull/3",
    "the token bucket refills",
    "password: [redacted]",
])
def test_ordinary_text_and_redacted_text_stay_as_they_are(text):
    assert redact(text) == text


def test_log_lines_are_redacted_and_clipped():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "pushed with %s then %s", (GHP, "x " * 50_000), None)

    line = json.loads(log.JsonFormatter().format(record))["msg"]

    assert GHP not in line and "[redacted]" in line
    assert len(line) == log.MESSAGE_CHARS and line.endswith("…")


def test_gunicorns_lines_quoting_a_client_are_cut_short_before_anything_else():
    quoted = "Invalid request from ip=10.0.0.1: Invalid HTTP request line: '" + "password" * 500 + "'"
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1, quoted, (), None)

    assert log.ClipGunicorn().filter(record)

    assert len(record.getMessage()) == log.GUNICORN_CHARS


@pytest.mark.parametrize("text, raw", [
    ("thanks @someone!", "@someone"),
    ("cc @octo-org/reviewers", "@octo-org/reviewers"),
    ("fixes #123", "#123"),
    ("see octo-org/hello#45", "hello#45"),
    ("see GH-12", "GH-12"),
    ("https://github.com/octo-org/hello/issues/7", "https://github.com"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ("</details><details open>", "</details>"),
    ("a & b", "a & b"),
])
def test_neutralised_text_cannot_ping_link_or_inject(text, raw):
    assert raw not in neutralise(text)


def test_mentions_and_references_read_the_same_to_people():
    assert neutralise("@someone fixed #12").replace(ZWSP, "") == "@someone fixed #12"


def test_code_is_left_literal_because_github_does_not_interpret_it():
    assert neutralise("run `<b>@x</b>` now") == "run `<b>@x</b>` now"
    fenced = "intro\n```python\nif a < b: print('@x #1')\n```\n<b>"
    assert neutralise(fenced) == "intro\n```python\nif a < b: print('@x #1')\n```\n&lt;b&gt;"


def test_an_unclosed_fence_is_closed_so_it_cannot_swallow_the_comment():
    assert neutralise("text\n```\ncode <b>").endswith("```\ncode <b>\n```")
    assert neutralise("~~~~\ncode\n~~~").endswith("~~~\n~~~~")


def test_a_backtick_after_a_backslash_does_not_open_a_code_span():
    assert "<b>" not in neutralise(r"\`<b>`")


def test_one_line_collapses_and_shortens():
    assert one_line("fix\n  the @parser", 12) == f"fix the @{ZWSP}pa…"


@pytest.mark.parametrize("text", ["plain", "``` inside ```", "````\nfour\n````", "a `tick`"])
def test_code_block_fence_is_longer_than_any_backtick_run_inside(text):
    block = code_block(text)
    fence = block.split("\n", 1)[0]
    assert set(fence) == {"`"} and len(fence) >= 3
    assert block.endswith("\n" + fence)
    assert all(len(run) < len(fence) for run in text.split() if set(run) == {"`"})


def test_code_span_survives_backticks_and_newlines():
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("two\nlines") == "`two lines`"
