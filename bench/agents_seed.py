"""The Agents page bench's data (bench/agents_page.py): a session index of n sessions, and a signed-in person.

The sessions are bench/index_queries.py's bulk load (`generate_series`), spread over 200
repositories in 20 installations (one of them, the large customer, holding a tenth), nearly all
finished; the newest RUNNING of them are still queued or running, whatever n is: history grows, what
runs at once does not. The installations, repositories and pull requests (titled as agents' pull
requests are, some with characters HTML must escape) are derived from the sessions in SQL.

The person signs in as the bot would have it after GitHub's OAuth flow: the fake GitHub knows them
and the installation whose 10 repositories they can reach (sessions of those repositories take the
ids the fake gives them); their browser session and sealed token are stored with the bot's own
`Accounts.open_session`, and what they may see is asked of the fake once with the bot's own
`UserAccess`, with their token: cached, so no page view during the measurement asks GitHub again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

from bench import index_queries
from bot.app import runtime_of
from bot.caches.user_access import UserAccess
from bot.github.oauth import UserToken
from bot.web.access import SESSION_KEY
from bot.web.accounts import Accounts

REPOSITORIES = 200
INSTALLATIONS = 19  # plus the large customer's (id 0): 20
STATES = ("completed",) * 16 + ("failed", "failed", "cancelled", "timed_out")  # finished ones
RUNNING = 50  # the newest sessions: the first QUEUED queued, the others in progress
QUEUED = 10
PERSON, PERSON_INSTALLATION = "monalisa", 2  # installation 2 holds 10 repositories
TITLES = (
    "Add retry with exponential backoff to the webhook sender",
    "Fix flaky test_scheduler_handles_daylight_saving_time",
    "[WIP] Migrate the settings page to the new form components",
    "Update dependencies to address CVE-2024-3651 in idna",
    "Handle <details> blocks & HTML entities in release notes",
    "Add dark mode support to the dashboard",
    "Refactor payment service: extract invoice rendering",
    "Fix off-by-one in pagination of /api/v2/orders",
    "Document the deployment process for staging and production",
    "Add type hints to utils/date_parsing.py",
    "Improve error message when the config file is missing",
    "Speed up CI by caching node_modules between jobs",
    "Fix O'Brien-style apostrophes breaking the author search",
    "Add unit tests for the rate limiter",
    'Support "quoted" values in .env files',
    "Remove deprecated v1 endpoints after the 90-day notice",
    "Add a --dry-run flag to the cleanup script",
    "Fix memory leak in the websocket reconnect loop",
    "Translate onboarding emails to German and French",
    "Make the sidebar keyboard accessible (WCAG 2.1 AA)",
    "Bump actions/checkout from v3 to v4 in every workflow",
    "Fix timezone handling in the weekly report cron job",
    "Add OpenTelemetry tracing to the checkout flow",
    "Replace moment.js with date-fns",
)

DERIVE = [
    # One installation per installation id the sessions name (ids as the bulk load gives them).
    text("""INSERT INTO installations (id, account_login, account_type, repository_selection, suspended, created_at,
                                      updated_at)
            SELECT DISTINCT installation_id, 'org', 'Organization', 'selected', false, :base, :base FROM sessions"""),
    text("""INSERT INTO repositories (id, installation_id, full_name, private, added_at)
            SELECT DISTINCT ON (repository_id) repository_id, installation_id, repository, true, :base
            FROM sessions ORDER BY repository_id"""),
    text("""INSERT INTO pull_requests (repository_id, number, installation_id, repository, id, title, state, draft,
                                      author, assignees, head_branch, head_repository_id, html_url, created_at,
                                      github_updated_at, sessions_numbered, updated_at)
            SELECT repository_id, pr_number, min(installation_id), min(repository), row_number() OVER (),
                   (CAST(:titles AS text[]))[CAST(1 + (pr_number * 7 + repository_id) % :title_count AS int)],
                   CASE WHEN bool_or(state IN ('queued', 'in_progress')) THEN 'open' ELSE 'closed' END, false,
                   'Copilot', '["Copilot", "octocat"]', min(head_branch), repository_id,
                   'https://github.com/' || min(repository) || '/pull/' || pr_number, min(created_at),
                   max(run_updated_at), max(number), :base
            FROM sessions GROUP BY repository_id, pr_number"""),
]

# The newest RUNNING sessions run still: QUEUED of them queued (not started), the rest in progress.
STILL_RUNNING = text("""
    WITH newest AS (SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS k
                    FROM sessions ORDER BY created_at DESC, id DESC LIMIT :running)
    UPDATE sessions SET state = CASE WHEN newest.k <= :queued THEN 'queued' ELSE 'in_progress' END,
                        status = CASE WHEN newest.k <= :queued THEN 'queued' ELSE 'in_progress' END,
                        started_at = CASE WHEN newest.k <= :queued THEN NULL ELSE started_at END,
                        finished_at = NULL, conclusion = NULL
    FROM newest WHERE sessions.id = newest.id
""")


@dataclass(frozen=True)
class Person:
    """A signed-in person: the `Cookie:` header of their browser, and what they may see."""

    login: str
    cookie: str
    repository_ids: frozenset[int]
    repository_names: frozenset[str]
    sessions: int  # how many sessions of the index they may see


def load(engine, n: int, fake) -> dict:
    """Load n sessions and what the page joins to them; register the person's installation with the fake
    GitHub. Seconds taken."""
    started = time.perf_counter()
    index_queries.load(engine, n, repos=REPOSITORIES, installations=INSTALLATIONS, states=STATES)
    loaded = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(STILL_RUNNING, {"running": min(RUNNING, n), "queued": QUEUED})
        theirs = conn.execute(text("SELECT DISTINCT repository_id, repository FROM sessions "
                                   "WHERE installation_id = :i ORDER BY repository_id"),
                              {"i": PERSON_INSTALLATION}).all()
        fake.add_installation(PERSON_INSTALLATION, "org", [name for _, name in theirs])
        for bulk_id, name in theirs:  # the ids GitHub (the fake) gives these repositories
            conn.execute(text("UPDATE sessions SET repository_id = :github WHERE repository_id = :bulk"),
                         {"github": fake.repositories[name.lower()]["id"], "bulk": bulk_id})
        values = {"base": index_queries.BASE_TIME, "titles": list(TITLES), "title_count": len(TITLES)}
        for statement in DERIVE:
            conn.execute(statement, values)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("sessions", "pull_requests", "repositories", "installations"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
        conn.execute(text("CHECKPOINT"))  # the load's writes flushed now, not by a checkpoint while measuring
    return {"bulk_load_s": round(loaded - started, 1), "load_s": round(time.perf_counter() - started, 1)}


def sign_in(app, fake) -> Person:
    """The person, signed in to the bot's `app` (in this process, on the same database as the served bot):
    the fake GitHub lets them reach their installation's repositories and mints their token; the bot
    stores their browser session and asks (once, through the fake) what they see; their cookie is
    signed as the bot signs it (its key derived from SECRET_KEY: bot/people/sealing.py, bot/web/signin.py)."""
    runtime = runtime_of(app)
    with runtime.engine.connect() as conn:
        names = conn.execute(text("SELECT full_name FROM repositories WHERE installation_id = :i"),
                             {"i": PERSON_INSTALLATION}).scalars().all()
    user = fake.add_user(PERSON)
    fake.grant(PERSON, *names)
    access, refresh = fake.users.mint(PERSON)
    token = UserToken(access_token=access.value, refresh_token=refresh.value, expires_at=access.expires_at,
                      refresh_expires_at=refresh.expires_at)
    session_id = Accounts(runtime.engine, runtime.settings).open_session(user["id"], PERSON, token)
    seen = UserAccess(runtime.engine, runtime.settings.user_access_cache_ttl).repositories(
        user["id"], lambda: runtime.github.user(token.access_token))
    ids = frozenset(repository_id for _, repository_id, _ in seen)
    with runtime.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM sessions WHERE repository_id = ANY(:ids)"),
                             {"ids": sorted(ids)}).scalar()
    with app.test_request_context():
        signed = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: session_id})
    return Person(PERSON, f"{app.config['SESSION_COOKIE_NAME']}={signed}", ids,
                  frozenset(name for _, _, name in seen), count)
