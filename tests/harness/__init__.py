"""The two ways tests and benchmarks run the whole bot.

- `inprocess.InProcessBot`: the real WSGI app and the real queue in this process, jobs run here by
  `bot.worker.run_job`, against the fake GitHub. Fast; for tests that drive deliveries and jobs.
- `stack.Stack`: the bot in real processes (gunicorn, optionally `python -m bot.worker`), on a
  SQLite file or a PostgreSQL database, against the fake GitHub over sockets. The integration and
  fault tests and the end-to-end benchmarks use it.

Both sign with an App key from `keys.make_app_key()` and use databases from `databases`.
"""
