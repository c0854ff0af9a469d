"""The fake's webhook delivery log behaves like GitHub's: attempts as sent, cursor pages, redelivery."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.fakegithub import payloads
from tests.fakegithub.credentials import as_app

SECRET = "hook-secret"


class Receiver:
    """A webhook receiver on 127.0.0.1 answering `status` (after `delay` seconds); keeps what it got."""

    def __init__(self, status: int = 202, delay: float = 0.0):
        self.status, self.delay, self.received = status, delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def closed_port_url() -> str:
    """A URL nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def listing(fake, app_key, **query):
    return requests.get(f"{fake.url}/app/hook/deliveries", params=query, headers=as_app(app_key), timeout=5)


def comment_payload() -> dict:
    return payloads.with_installation(payloads.example("issue_comment", "created"), 7)


def test_a_sent_webhook_is_signed_and_logged_with_the_receivers_answer(fake_github, app_key, receiver):
    attempt = fake_github.send_webhook(receiver.url, SECRET, "issue_comment", comment_payload(), guid="g-1")

    [(headers, body)] = receiver.received
    assert headers["X-GitHub-Delivery"] == "g-1" and headers["X-GitHub-Event"] == "issue_comment"
    assert headers["X-Hub-Signature-256"] == payloads.sign(body, SECRET)
    assert (attempt["status_code"], attempt["status"], attempt["redelivery"]) == (202, "OK", False)
    [item] = listing(fake_github, app_key).json()
    assert (item["guid"], item["event"], item["action"], item["installation_id"]) == \
        ("g-1", "issue_comment", "created", 7)
    assert "request" not in item, "the list shows hook-delivery-items, without request or response"
    full = requests.get(f"{fake_github.url}/app/hook/deliveries/{item['id']}", headers=as_app(app_key),
                        timeout=5).json()
    assert full["request"]["payload"] == json.loads(body) and full["url"] == receiver.url


def test_no_answer_is_status_code_0(fake_github):
    refused = fake_github.send_webhook(closed_port_url(), SECRET, "ping", {"zen": "x"})
    slow = Receiver(delay=1.0)
    fake_github.webhook_timeout = 0.2
    try:
        timed_out = fake_github.send_webhook(slow.url, SECRET, "ping", {"zen": "x"})
    finally:
        slow.close()
    assert (refused["status_code"], refused["status"]) == (0, "failed to connect to host")
    assert (timed_out["status_code"], timed_out["status"]) == (0, "timed out")


def test_an_error_answer_is_logged_as_github_words_it(fake_github):
    refusing = Receiver(status=401)
    try:
        attempt = fake_github.send_webhook(refusing.url, SECRET, "ping", {"zen": "x"})
    finally:
        refusing.close()
    assert (attempt["status_code"], attempt["status"]) == (401, "Invalid HTTP Response: 401")


def test_pages_go_newest_first_with_a_cursor_in_the_next_link(fake_github, app_key):
    for n in range(7):
        fake_github.record_delivery(f"g-{n}", "issues", "opened", 202)
    seen, response = [], listing(fake_github, app_key, per_page=3)
    pages = 1
    while "next" in response.links:
        assert "cursor=" in response.links["next"]["url"]
        seen += [item["guid"] for item in response.json()]
        response = requests.get(response.links["next"]["url"], headers=as_app(app_key), timeout=5)
        pages += 1
    seen += [item["guid"] for item in response.json()]
    assert pages == 3 and seen == [f"g-{n}" for n in reversed(range(7))]
    assert listing(fake_github, app_key, cursor="garbage").status_code == 400


def test_status_filter_follows_the_documented_ranges(fake_github, app_key):
    fake_github.record_delivery("ok", "issues", "opened", 202)
    fake_github.record_delivery("bad", "issues", "opened", 503)
    assert [i["guid"] for i in listing(fake_github, app_key, status="failure").json()] == ["bad"]
    assert [i["guid"] for i in listing(fake_github, app_key, status="success").json()] == ["ok"]


def test_redelivery_sends_the_payload_again_to_the_apps_webhook_and_logs_it(fake_github, app_key, receiver):
    first = fake_github.send_webhook(closed_port_url(), "old-secret", "issue_comment", comment_payload(), guid="g-2")
    fake_github.webhook_url, fake_github.webhook_secret = receiver.url, SECRET

    answer = requests.post(f"{fake_github.url}/app/hook/deliveries/{first['id']}/attempts",
                           headers=as_app(app_key), timeout=5)

    assert answer.status_code == 202
    [(headers, body)] = receiver.received
    assert headers["X-GitHub-Delivery"] == "g-2" and headers["X-Hub-Signature-256"] == payloads.sign(body, SECRET)
    assert json.loads(body) == comment_payload()
    assert [(a["status_code"], a["redelivery"]) for a in fake_github.attempts_of("g-2")] == [(0, False), (202, True)]


def test_github_forgets_deliveries_after_three_days(fake_github, app_key):
    old = fake_github.record_delivery("old", "issues", "opened", 0, at=time.time() - 3 * 86400 - 60)
    fake_github.record_delivery("new", "issues", "opened", 0)
    assert [i["guid"] for i in listing(fake_github, app_key).json()] == ["new"]
    assert requests.post(f"{fake_github.url}/app/hook/deliveries/{old['id']}/attempts", headers=as_app(app_key),
                         timeout=5).status_code == 404
    assert requests.get(f"{fake_github.url}/app/hook/deliveries/{old['id']}", headers=as_app(app_key),
                        timeout=5).status_code == 404
