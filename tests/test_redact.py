"""Secrets are redacted, in what is kept, posted and logged."""

import json
import logging
import random
import string

import pytest

from bot import logging_config
from bot.redact import clipped, redact

GHP = "ghp_" + "A1b2C3d4E5" * 4
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nq2bO9x\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0IiwiZXhwIjoxfQ.c2lnbmF0dXJlLXBhcnQ"
GHS = "ghs_" + "A1b2C3d4E5f6G7h8I9j0" + "K1l2M3n4O5p6Q7r8"
PGP = ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGZ2mQoBCADH8uE1b9Xq\n=Ab3D\n"
       "-----END PGP PRIVATE KEY BLOCK-----")


def sample(alphabet: str, size: int, seed: int) -> str:
    """Random-looking key material of a provider's format (fixed by its seed)."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


ALNUM = string.ascii_letters + string.digits
SLACK = "xoxb-1234567890-1234567890123-" + sample(ALNUM, 24, 1)
SLACK_HOOK = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/" + sample(ALNUM, 24, 2)
STRIPE = "sk_live_" + sample(ALNUM, 24, 3)
NPM = "npm_" + sample(string.ascii_lowercase + string.digits, 36, 4)
OPENAI = "sk-proj-" + sample(ALNUM + "_-", 74, 5) + "T3BlbkFJ" + sample(ALNUM + "_-", 74, 6)
ANTHROPIC = "sk-ant-api03-" + sample(ALNUM + "_-", 93, 7) + "AA"
GOOGLE = "AIza" + sample(ALNUM + "_-", 35, 8)


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
    # Issue 12: a GitHub token right after a word character.
    ('{"log": "pushed\\n' + GHS + '"}', GHS[4:]),
    ("url=https%3A%2F%2Fx%3A" + GHS + "%40github.com", GHS[4:]),
    ("TOKEN_" + GHS, GHS[4:]),
    ("MY_TOKENghp_" + "A1b2C3d4E5" * 4, "A1b2C3d4E5" * 4),
    # PGP private key blocks, whole, cut short, or with their start clipped off.
    (f"gpg --export-secret-keys\n{PGP}\ndone", "lQOYBGZ2mQoBCADH8uE1b9Xq"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGZ2mQoBCADH8uE1b9Xq (cut", "lQOYBGZ2mQoBCADH8uE1b9Xq"),
    ("lQOYBGZ2mQoBCADH8uE1b9Xq\n-----END PGP PRIVATE KEY BLOCK-----\nnext", "lQOYBGZ2mQoBCADH8uE1b9Xq"),
    # Credentials in URLs, commands and headers.
    ("connecting to redis://:s3cretpw@cache:6379/0", "s3cretpw"),
    ("curl -u admin:hunter2 https://api.example.com", "hunter2"),
    ("curl -sS --user=admin:hunter2 https://api.example.com", "hunter2"),
    ("curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://x", "dXNlcjpodW50ZXIy"),
    ('{"Authorization": "Basic dXNlcjpodW50ZXIy"}', "dXNlcjpodW50ZXIy"),
    ("mysql -h db -u root -phunter2 app", "hunter2"),
    ("mysqldump --password=hunter2 app", "hunter2"),
    # A quoted value whose closing quote was clipped off; YAML list values under a secret-like key.
    ('config: password = "correct horse battery', "correct horse battery"),
    ("password = 'correct horse battery", "correct horse battery"),
    ("db:\n  password:\n    - hunter2\n    - swordfish\n  host: db", "hunter2"),
    ("db:\n  password:\n    - hunter2\n    - swordfish\n  host: db", "swordfish"),
    # Gitleaks' rules (bot/secret_rules): provider key formats, in prose where no label gives them away.
    (f"posting as {SLACK} to #builds", SLACK),
    (f"webhook {SLACK_HOOK} returned 200", SLACK_HOOK[-24:]),
    (f"charging with {STRIPE} failed", STRIPE),
    (f"//registry.npmjs.org/:_authToken {NPM}", NPM),
    (f"client = OpenAI({OPENAI!r})", OPENAI),
    (f"using {ANTHROPIC} for the run", ANTHROPIC),
    (f"geocoding with {GOOGLE} (restricted to maps)", GOOGLE),
    (f"retrying with 'sk_test_{sample(ALNUM, 24, 9)}'", sample(ALNUM, 24, 9)),
    ("app.config.api_key = 'Zx9Qw3Er7Ty1Ui5Op2As'", "Zx9Qw3Er7Ty1Ui5Op2As"),
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
    "password:\n  - [redacted]",
    'password = "[redacted]',
    "redis://:[redacted]@cache:6379/0",
    # Ordinary agent output: pytest, git, paths, hashes, ids, versions, words that name secrets.
    "tests/test_api.py::test_token_refresh PASSED                               [  2%]",
    "tests/test_secret_rules.py::test_entropy FAILED",
    "===== 3 failed, 120 passed, 2 skipped in 12.34s =====",
    "E   AssertionError: assert 'key-2024-05' == 'key-2024-06'",
    "commit 9dfef08c1e2a3b4c5d6e7f8091a2b3c4d5e6f708 (HEAD -> secrets)",
    "9dfef08 Split bot/redact.py: secrets stay there, markdown neutralising moves to bot/inert.py",
    "Merge: 080810d 2c8511d",
    "Author: Octo Cat <octocat@example.com>",
    "delivery 3f2a9c1e-8d4b-4c6a-9e1f-0a1b2c3d4e5f queued",
    "/home/runner/work/hello/hello/src/auth/token_store.py:42: in refresh",
    '  File "/usr/lib/python3.11/site-packages/requests/auth.py", line 96, in __call__',
    "build id: 7Hq2xZ0pL9mN4vB8cR1tY6uW3sA5dF7g",
    "image sha256:4f1e2d3c4b5a69788796a5b4c3d2e1f04f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "cache key: pip-linux-x64-3.11-4f1e2d3c",
    "Restored cache from key: node-cache-Linux-x64-npm-4f1e2d3c4b5a6978",
    "Run actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11",
    "X-GitHub-Request-Id: 0400:3C1A:1B2F3D:2A4E5F:66A1B2C3",
    "primary_key = user_id",
    "secret scanning found 0 alerts; auth: github-app installation 4711",
    "Successfully installed requests-2.32.3 urllib3-2.2.1 certifi-2024.2.2",
    "docker run -u 1000:1000 python:3.11 pytest",
    "mysql -h db -u root -p app",
    "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
])
def test_ordinary_text_and_redacted_text_stay_as_they_are(text):
    assert redact(text) == text


def test_redacting_twice_changes_nothing():
    for text in (f"TOKEN_{GHS} password = \"correct horse", f"{PGP}\n{SLACK}", "password:\n  - a\n  - b"):
        assert redact(redact(text)) == redact(text)


def test_a_quoted_value_cut_by_the_window_is_redacted_before_the_final_clip():
    text = 'setting password = "correct horse battery staple ' + "and more words " * 40

    kept = clipped(text, 60)

    assert "correct" not in kept and "[redacted]" in kept


def test_log_lines_are_redacted_and_clipped():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "pushed with %s then %s", (GHP, "x " * 50_000), None)

    line = json.loads(logging_config.JsonFormatter().format(record))["msg"]

    assert GHP not in line and "[redacted]" in line
    assert len(line) == logging_config.MESSAGE_CHARS and line.endswith("…")


def test_gunicorns_lines_quoting_a_client_are_cut_short_before_anything_else():
    quoted = "Invalid request from ip=10.0.0.1: Invalid HTTP request line: '" + "password" * 500 + "'"
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1, quoted, (), None)

    assert logging_config.ClipGunicorn().filter(record)

    assert len(record.getMessage()) == logging_config.GUNICORN_CHARS
