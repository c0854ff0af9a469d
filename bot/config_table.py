"""Every setting an operator can set, documented once: docs/configuration.md and the README's table are
generated from this table (`.venv/bin/python docs/configuration.py`), and tests/test_config_docs.py holds
it to the code: every variable the code reads is here, and each default parses to the Settings default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Documented:
    """One setting: its variable (and one documented with it), its default as an operator writes it, what it does."""

    variable: str
    default: str | None  # as an operator would write it; None: no default
    meaning: str
    also: str | None = None  # documented with it: PRIVATE_KEY_PATH (instead), GITHUB_CLIENT_SECRET (with it)


SETTINGS = (
    Documented('APP_ID', None,
               "The GitHub App's id."),
    Documented('PRIVATE_KEY', None,
               "The App's private key: PEM text (literal `\\n` accepted) or a file.", also='PRIVATE_KEY_PATH'),
    Documented('WEBHOOK_SECRET', None,
               'The webhook secret; a comma-separated list during rotation (any one matches).'),
    Documented('APP_SLUG', None,
               "The App's URL name (its public link is `https://github.com/apps/<slug>`): the home page links to its install page."),
    Documented('WEBHOOK_PATH', '/api/github/webhooks',
               'Where GitHub delivers webhooks.'),
    Documented('GITHUB_API_URL', 'https://api.github.com',
               'REST API root; `GHE_HOST=github.example.com` works too (with `GHE_PROTOCOL=http` for a server without TLS).'),
    Documented('DATABASE_URL', 'sqlite:///instance/bot.sqlite3',
               'SQLite file, or `postgresql://user:pass@host/db`.'),
    Documented('PORT', '3000',
               'HTTP port (gunicorn binds `0.0.0.0:$PORT`).'),
    Documented('WEB_CONCURRENCY', '2',
               'gunicorn worker processes.'),
    Documented('PROMETHEUS_MULTIPROC_DIR', None,
               "Where gunicorn's workers keep the counters `/metrics` sums; by default a temporary folder made at "
               'startup and removed at exit.'),
    Documented('LOG_LEVEL', 'info',
               '`debug`, `info`, `warning`, `error`.'),
    Documented('LOG_FORMAT', 'json',
               '`json` lines, or `text` (`pretty`).'),
    Documented('AUTO_MIGRATE', '1',
               'Migrate the database at startup, under a lock. `0`: leave it to `flask --app app db upgrade`.'),
    Documented('BOT_INLINE_WORKERS', '1',
               'Run job workers inside each web process. `0` when `python -m bot.worker` runs separately.'),
    Documented('BOT_WORKER_THREADS', '2',
               'Job worker threads per process.'),
    Documented('JOB_LEASE_SECONDS', '30',
               "A claimed job's lease; renewed every third of it while the job runs. A job whose worker died runs again once it lapses."),
    Documented('JOB_RETRY_BASE_SECONDS', '1',
               'First retry delay; doubles each attempt (±50 % jitter, at most 10 minutes).'),
    Documented('JOB_MAX_ATTEMPTS', '8',
               'Failed attempts before a job is `dead` (`flask --app app jobs list` / `jobs retry ID`).'),
    Documented('JOB_POLL_SECONDS', '1',
               'How often an idle worker looks for due jobs it was not woken for.'),
    Documented('GITHUB_RETRIES', '3',
               'In-call retries of a GitHub request that failed transiently.'),
    Documented('GITHUB_CONNECT_TIMEOUT_SECONDS', '5',
               'Connect timeout for GitHub requests.'),
    Documented('GITHUB_READ_TIMEOUT_SECONDS', '30',
               'Read timeout for GitHub requests.'),
    Documented('GITHUB_AMBIGUOUS_WAIT_SECONDS', '10',
               "After a write that may have landed (a timeout or reset once sent), the job retries no sooner than this, so its look for the first attempt (a reply's marker, the run's state) cannot come before GitHub finished it (GitHub ends requests after 10 s)."),
    Documented('GITHUB_WRITE_INTERVAL_SECONDS', '1',
               "Average least time between two content-changing requests (comments, reactions, cancels) of one installation, per process, as GitHub's secondary-rate-limit guidance asks; a burst of 3 (one command's reaction, action and reply) goes at once."),
    Documented('STOP_GRACE_SECONDS', '60',
               'How long `/session stop` waits before force-cancelling a run.'),
    Documented('STATUS_COMMENT_INTERVAL_SECONDS', '10',
               "Least time between two edits of a PR's status comment."),
    Documented('TIMELINE_COALESCE_SECONDS', '5',
               'Events about one pull request within this window share one read of its timeline.'),
    Documented('PERMISSION_CACHE_SECONDS', '60',
               "How long a user's repository permission is cached (in the database: one answer serves every process)."),
    Documented('REPO_CONFIG_CACHE_SECONDS', '60',
               "How long a repository's `.github/session-bot.yml`, or its absence, is trusted by every process before it is checked again (a 304 when unchanged)."),
    Documented('COMMAND_RATE_LIMIT', '10',
               'Commands one person may give in one repository per minute; past it, one notice and the rest are ignored.'),
    Documented('LOG_SUMMARY_BUDGET_SECONDS', '60',
               'Wall-clock time one `/session log` summary may take. The summariser runs in its own process, killed at this budget; the command then answers that the log could not be summarised in time, and is not retried.'),
    Documented('SESSION_WORKFLOW_PATH_PREFIXES', 'dynamic/copilot-swe-agent/',
               'Workflow run paths that are Copilot agent sessions (comma-separated).'),
    Documented('COPILOT_LOGINS', 'Copilot,copilot-swe-agent[bot]',
               "Logins of the agent: their pull requests are tracked, and they never count as a session's starter."),
    Documented('BACKFILL_DAYS', '30',
               'On install, index agent runs this many days back. `0` turns backfill off.'),
    Documented('BACKFILL_MAX_RUNS', '100',
               'At most this many past agent runs indexed per repository on install.'),
    Documented('BACKFILL_API_BUDGET', '500',
               'At most this many GitHub calls per installation for backfill, granted at most once a day (a retried or replayed delivery grants nothing more).'),
    Documented('REDELIVERY_INTERVAL_SECONDS', '300',
               "How often GitHub's log of the App's webhook deliveries is checked for failed ones the bot never stored, and their redelivery asked for ([docs/operations.md](docs/operations.md)). `0` turns it off."),
    Documented('REDELIVERY_MAX_PER_RUN', '50',
               'At most this many redeliveries asked for per check; the rest wait for the next.'),
    Documented('REDELIVERY_MAX_ATTEMPTS', '3',
               "Redeliveries of one delivery (the bot's and anyone's from GitHub's UI) before it is given up."),
    Documented('INSIGHTS_INTERVAL_SECONDS', '300',
               'How often stored log summaries not classified yet get the cause of their failure, for the insights page (`/insights`, `flask --app app sessions report`). `0` turns it off.'),
    Documented('RETENTION_DAYS', '14',
               'Done jobs and stored deliveries no job still needs are deleted after this many days (daily; `flask --app app deliveries prune`). `0` keeps everything; otherwise at least `3`.'),
    Documented('GITHUB_URL', 'https://github.com',
               "GitHub's web host, where people sign in (a GitHub Enterprise Server's own URL)."),
    Documented('GITHUB_CLIENT_ID', None,
               "The App's OAuth client: with `SECRET_KEY`, turns on sign-in to the Agents page ([docs/signin.md](docs/signin.md)).", also='GITHUB_CLIENT_SECRET'),
    Documented('SECRET_KEY', None,
               'At least 32 characters; signs the session cookie and encrypts kept tokens (two keys derived from it). `new,old` during rotation.'),
    Documented('ADMIN_TOKEN', None,
               'At least 32 characters: `Authorization: Bearer $ADMIN_TOKEN` lets the operator use the JSON API (and the page) and see every session.'),
    Documented('WEB_SESSION_IDLE_SECONDS', '28800',
               'A browser session unused this long ends (with the token it holds, unless the person chose to keep it).'),
    Documented('USER_TOKEN_IDLE_SECONDS', '2592000',
               'A token kept beyond the browser session, unused this long, is deleted.'),
    Documented('USER_ACCESS_CACHE_SECONDS', '60',
               'How long GitHub\'s answer to "which repositories can this person see" is trusted by every process.'),
)
