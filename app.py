"""The WSGI entry point: `gunicorn app:app` (settings in gunicorn.conf.py), or `python app.py` to develop."""

import sys

from bot.app import create_app, runtime_of, start_workers
from bot.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"session-bot: configuration error: {exc}\n")
    raise SystemExit(1) from None

if __name__ == "__main__":
    start_workers(app)
    app.run(host="127.0.0.1", port=runtime_of(app).settings.port, use_reloader=False)
