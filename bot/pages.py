"""Pages for people and probes: `/` (setup help or status), `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template_string
from sqlalchemy import text

from bot import db, metrics
from bot.runtime import current_runtime

blueprint = Blueprint("pages", __name__)

HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>session-bot</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:4px}pre{padding:.8rem}</style></head>
<body><h1>session-bot</h1>
{% if settings.setup_mode %}
<p>The bot is running in <strong>setup mode</strong>: it has no GitHub App settings yet, so it
refuses webhooks (they answer 503 and nothing is stored).</p>
<p>To finish, register a GitHub App (Settings → Developer settings → GitHub Apps → New) with</p>
<ul><li>Webhook URL: <code>https://&lt;this host&gt;{{ settings.webhook_path }}</code> and a webhook secret;</li>
<li>permissions: Actions (read &amp; write), Pull requests (read &amp; write), Issues (read &amp; write),
Contents (read), Metadata (read);</li>
<li>events: Installation, Installation repositories, Issue comment, Pull request, Workflow run, Workflow job.</li></ul>
<p>Then set these variables (in the environment or a <code>.env</code> file beside <code>app.py</code>;
<code>.env.example</code> lists them all) and restart:</p>
<pre>APP_ID=&lt;the App's id&gt;
PRIVATE_KEY_PATH=/path/to/app.private-key.pem   # or PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\n…"
WEBHOOK_SECRET=&lt;the webhook secret&gt;</pre>
{% else %}
<p>GitHub App <strong>{{ settings.app_id }}</strong> is receiving webhooks at
<code>{{ settings.webhook_path }}</code>.</p>
<p>Jobs: {% for state, count in jobs.items() %}{{ state }} {{ count }}{% if not loop.last %}, {% endif %}
{% else %}none yet{% endfor %}.</p>
{% endif %}
<p><a href="/healthz">healthz</a> · <a href="/readyz">readyz</a> · <a href="/metrics">metrics</a></p>
</body></html>"""


@blueprint.get("/")
def home():
    runtime = current_runtime()
    counts = {} if runtime.settings.setup_mode else runtime.queue.counts()
    return render_template_string(HOME, settings=runtime.settings, jobs=counts)


@blueprint.get("/healthz")
def healthz():
    """The process is alive and answering."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is the newest migration."""
    runtime = current_runtime()
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = db.current_revision(runtime.engine), db.head_revision()
    except Exception as exc:
        return jsonify(status="unavailable", reason=f"database: {type(exc).__name__}"), 503
    if current != head:
        return jsonify(status="unavailable", reason=f"migrations: at {current}, expected {head}"), 503
    return jsonify(status="ok", migration=current, setup_mode=runtime.settings.setup_mode)


@blueprint.get("/metrics")
def metrics_page():
    return Response(metrics.exposition(current_runtime().engine), mimetype="text/plain; version=0.0.4")
