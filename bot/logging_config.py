"""Logging: JSON lines (or text) carrying the delivery, event, installation and job at hand."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import threading
import time

# The last line of defence: whatever slips into a message, secrets never reach the log.
from bot.redact import clipped

# Characters of a message and of a traceback kept in one log line (cut, redacted, cut again).
MESSAGE_CHARS, TRACE_CHARS = 4000, 16000
# gunicorn quotes what a client sent in its own lines ("Invalid request from ip=…: Invalid HTTP
# request line: '…'"): that is anybody's text, so only this much of such a line is kept.
GUNICORN_CHARS = 300

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})


@contextlib.contextmanager
def context(**fields):
    """Attach fields (delivery_id, event, installation_id, job_id…) to every record inside."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = _context.get()
        return True


class ClipGunicorn(logging.Filter):
    """Cuts a gunicorn line to GUNICORN_CHARS before any handler or formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > GUNICORN_CHARS:
            record.msg, record.args = message[:GUNICORN_CHARS - 1] + "…", ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": clipped(record.getMessage(), MESSAGE_CHARS),
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["error"] = clipped(self.formatException(record.exc_info), TRACE_CHARS)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = clipped(super().format(record), MESSAGE_CHARS + TRACE_CHARS)
        extra = " ".join(f"{k}={v}" for k, v in getattr(record, "context", {}).items())
        return f"{line} [{extra}]" if extra else line


def configure(level: str = "INFO", fmt: str = "json", stream=None) -> None:
    """Route the bot's logs (and gunicorn's, when it runs us) through one handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 logs full URLs at DEBUG; keep it quiet even when the bot is verbose.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    # Alembic narrates its plugin setup at INFO on every start; bot.db logs the migrations it applies.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def gunicorn_logconfig(level: str = "INFO", fmt: str = "json") -> dict:
    """A logging dictConfig for gunicorn, so its own lines share the bot's format."""
    formatter = "bot.logging_config.JsonFormatter" if fmt == "json" else "bot.logging_config.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "bot.logging_config._ContextFilter"}, "clip": {"()": "bot.logging_config.ClipGunicorn"}},
        "formatters": {"bot": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "bot", "filters": ["context"],
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True, "filters": ["clip"]},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True, "filters": ["clip"]},
        },
    }


class Outage:
    """One log line per burst of failures of the same thing (the database gone), not one per try.

    The first failure is logged with its reason in one line; failures after it are only counted,
    and the first success logs how many there were. Thread-safe; one per thing that can fail.
    """

    def __init__(self, logger: logging.Logger, what: str):
        self.logger, self.what = logger, what
        self._lock = threading.Lock()
        self._failures = 0

    def failed(self, exc: BaseException) -> None:
        """Count a failure; the first of a burst is logged (an ERROR line naming the cause)."""
        with self._lock:
            self._failures += 1
            first = self._failures == 1
        if first:
            cause = getattr(exc, "orig", None) or exc
            reason = (str(cause).strip().splitlines() or [""])[0]
            self.logger.error("%s: %s: %s (further failures are counted until it works again)", self.what,
                              type(cause).__name__, reason)

    def succeeded(self) -> None:
        """The thing works (again): log the end of a burst, if there was one."""
        if not self._failures:  # the common case: no lock taken
            return
        with self._lock:
            failures, self._failures = self._failures, 0
        if failures:
            self.logger.warning("%s works again, after %d failure(s)", self.what, failures)
