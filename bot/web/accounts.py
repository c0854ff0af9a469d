"""Signed-in browsers and the tokens behind them: `web_sessions` rows, on top of the people's sealed
`user_tokens` (bot/people/tokens.py: stored, renewed, forgotten; what a job acting for a person uses).

The cookie carries a random session id; the database keeps only its sha256, so a copy of the table
signs nobody in. A token dies with the browser session unless the person chose to keep it (`keep`),
and a kept one after USER_TOKEN_IDLE_SECONDS unused (the prune in bot/retention.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from bot import retention
from bot.config import Settings
from bot.db import user_access_cache, user_tokens, web_sessions
from bot.github.oauth import UserToken
from bot.people.tokens import TOUCH_EVERY, Tokens


def enabled(settings: Settings) -> bool:
    """Sign-in can work: the App's OAuth client, SECRET_KEY, and the App itself (the API client)."""
    return settings.sign_in and not settings.setup_mode


def id_hash(session_id: str) -> str:
    """What the database keeps of a cookie's session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    """A signed-in browser: whose it is."""

    user_id: int
    login: str


class Accounts(Tokens):
    """Browser sessions, and the tokens (Tokens) they bring, for one process; cheap to make."""

    def open_session(self, user_id: int, login: str, token: UserToken) -> str:
        """A new browser session for a person who just signed in, with their token; the id for the cookie."""
        session_id, now = secrets.token_urlsafe(32), self.clock()
        with self.engine.begin() as conn:
            conn.execute(web_sessions.insert().values(id_hash=id_hash(session_id), user_id=user_id, login=login,
                                                      created_at=now, last_seen_at=now))
            self.store(conn, user_id, login, token, now)
            # A fresh sign-in asks GitHub afresh what the person can see.
            conn.execute(delete(user_access_cache).where(user_access_cache.c.user_id == user_id))
        return session_id

    def session(self, session_id: str) -> Account | None:
        """The browser session's person, or None (unknown, ended, or idle past WEB_SESSION_IDLE_SECONDS)."""
        now = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash(session_id))).first()
        if row is None:
            return None
        if row.last_seen_at < now - self.settings.web_session_idle:
            retention.prune_signin(self.engine, self.settings, now=now)  # it, and a token that dies with it
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self.engine.begin() as conn:
                conn.execute(update(web_sessions).where(web_sessions.c.id_hash == row.id_hash)
                             .values(last_seen_at=now))
        return Account(row.user_id, row.login)

    def end_session(self, session_id: str) -> None:
        """Sign-out: this browser session, the person's token and their cached access are deleted."""
        with self.engine.begin() as conn:
            user_id = conn.execute(select(web_sessions.c.user_id)
                                   .where(web_sessions.c.id_hash == id_hash(session_id))).scalar()
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash(session_id)))
            if user_id is not None:
                for table in (user_tokens, user_access_cache):
                    conn.execute(delete(table).where(table.c.user_id == user_id))
