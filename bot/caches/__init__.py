"""Caches every process shares, in the database: any process's warm cache serves any job.

- `etags`        the last ETag and body of each URL read conditionally (an unchanged one is a 304);
- `permissions`  a person's role on a repository, for PERMISSION_CACHE_SECONDS;
- `repo_configs` a repository's `.github/session-bot.yml`, or that it has none, for REPO_CONFIG_CACHE_SECONDS;
- `setup_steps`  whether a repository has `.github/workflows/copilot-setup-steps.yml` (the insights' hint);
- `answers`      the table-backed "answer younger than the ttl, else ask GitHub" both of those use.

`bot/runtime.py` builds one of each per process; retention prunes answers nobody has asked for in days.
"""
