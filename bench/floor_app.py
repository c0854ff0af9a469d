"""The floor: a bare Flask app that verifies the webhook's HMAC, parses the JSON and answers 202.

Stores nothing. bench/intake.py serves it with gunicorn sync workers (`-w 2`, from this folder so
the bot's gunicorn.conf.py is not read), the same way the bot is served.
"""

import hashlib
import hmac
import json
import os

from flask import Flask, request

app = Flask(__name__)
SECRET = os.environ["WEBHOOK_SECRET"].encode()


@app.post("/api/github/webhooks")
def webhook():
    body = request.get_data()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return {"error": "bad signature"}, 401
    payload = json.loads(body)
    return {"delivery": request.headers.get("X-GitHub-Delivery"), "action": payload.get("action")}, 202


@app.get("/healthz")
def healthz():
    return "ok"
