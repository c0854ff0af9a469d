"""gunicorn settings for `gunicorn app:app` (read automatically from the working directory).

Sync workers: measured on this machine they ack webhooks faster than gthread, which with SQLite
stalls on the busy handler (see docs/architecture.md). Each worker runs its own job threads unless
BOT_INLINE_WORKERS=0.
"""

import logging
import os
import shutil
import sys
import tempfile

from gunicorn.glogging import Logger

from bot.config import ConfigError, load_settings
from bot.logging_config import gunicorn_logconfig

try:
    _settings = load_settings()
except ConfigError as exc:
    # One clear line instead of a traceback from every worker.
    sys.stderr.write(f"session-bot: configuration error: {exc}\n")
    raise SystemExit(1) from None

bind = [f"0.0.0.0:{_settings.port}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
accesslog = None
logconfig_dict = gunicorn_logconfig(_settings.log_level, _settings.log_format)


class QuietAccessLogger(Logger):
    """gunicorn's logger, minus the access-line fields it builds for every request even when its
    access logger (WARNING here) would drop the line: ~2% of an acknowledgement, measured."""

    def access(self, resp, req, environ, request_time):
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)


logger_class = QuietAccessLogger
# gunicorn 27's control socket sits at one fixed path per user: several instances would fight over it.
control_socket_disable = True

# prometheus-client's multiprocess mode: each worker writes its counters here, /metrics sums them.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="session-bot-metrics-")
    _owns_metrics_dir = True
else:
    _owns_metrics_dir = False

# A database that does not answer stops the master here, with one line, before it forks workers that
# would each fail to load the app and be restarted forever. (Imported only now: bot.runtime loads
# prometheus-client, which must see PROMETHEUS_MULTIPROC_DIR first.)
from bot.runtime import database_problem  # noqa: E402

if (_problem := database_problem(_settings)) is not None:
    sys.stderr.write(f"session-bot: {_problem}\n")
    if _owns_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    raise SystemExit(1)

if _settings.setup_mode:  # the one-time code a browser elsewhere than this machine needs to register the App
    from bot.web.registration import SETUP_FILE, setup_code  # noqa: E402

    sys.stderr.write(f"session-bot: setup mode: register the GitHub App at http://localhost:{_settings.port}/ "
                     f"from this machine, or from another one with the setup code {setup_code(SETUP_FILE)}\n")


def post_worker_init(worker):
    from bot.app import start_workers

    start_workers(worker.wsgi)


def worker_exit(server, worker):
    from bot.app import stop_workers

    if hasattr(worker, "wsgi"):
        stop_workers(worker.wsgi, timeout=graceful_timeout - 5)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _owns_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
