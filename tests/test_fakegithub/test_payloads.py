"""The fake GitHub's webhook payloads are GitHub's own, signed and delivered as GitHub does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.fakegithub import APP_ID, payloads


# Webhook payloads


def test_examples_are_githubs_own_payloads():
    payload = payloads.example("issue_comment", "created")
    assert payload["action"] == "created"
    assert {"issue", "comment", "repository", "sender"} <= payload.keys()
    payload["comment"]["body"] = "changed"
    assert payloads.example("issue_comment", "created")["comment"]["body"] != "changed"
    with pytest.raises(KeyError, match="actions"):
        payloads.example("issue_comment", "exploded")


def test_deliveries_are_signed_as_github_signs_them():
    # The test vector from GitHub's "Validating webhook deliveries" documentation.
    assert payloads.sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    body = b'{"zen": "hi"}'
    headers = payloads.headers("ping", body, "s3cret", delivery="abc")
    assert headers["X-GitHub-Event"] == "ping"
    assert headers["X-GitHub-Delivery"] == "abc"
    assert headers["X-Hub-Signature-256"] == payloads.sign(body, "s3cret")
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(APP_ID)
    payload = payloads.with_installation(payloads.example("pull_request", "opened"), 7)
    assert payload["installation"]["id"] == 7


def test_deliver_posts_the_signed_payload_to_the_webhook_url():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.headers, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    payload = payloads.with_installation(payloads.example("issue_comment", "created"), 7)
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/github"
    try:
        response = payloads.deliver(url, "issue_comment", payload, "s3cret", delivery="d-1")
    finally:
        server.server_close()
    assert response.status_code == 202
    headers, body = received[0]
    assert json.loads(body) == payload
    assert headers["X-Hub-Signature-256"] == payloads.sign(body, "s3cret")
    assert (headers["X-GitHub-Event"], headers["X-GitHub-Delivery"]) == ("issue_comment", "d-1")
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
