"""Secrets are redacted, in what is kept, posted and logged."""

import json
import logging

import pytest

from bot import log
from bot.redact import redact

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
