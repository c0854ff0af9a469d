"""Signed-in browsers and the tokens behind them: `web_sessions` rows and sealed `user_tokens`.

The cookie carries a random session id; the database keeps only its sha256, so a copy of the table
signs nobody in. A person's token is sealed (bot/web/tokens.py) and renewed with its refresh token
shortly before it expires; a refresh GitHub refuses (the authorization was revoked) forgets the
person. A token dies with the browser session unless the person chose to keep it (`keep`), and a
kept one after USER_TOKEN_IDLE_SECONDS unused (the prune in bot/retention.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from bot import retention
from bot.caches import user_access
from bot.config import Settings
from bot.db import dialect_insert, user_access_cache, user_tokens, web_sessions
from bot.github.oauth import OAuthRefused, UserToken, WebFlow
from bot.web.tokens import Sealer, Unsealable

log = logging.getLogger(__name__)

TOUCH_EVERY = 60.0  # last_seen_at / last_used_at are written at most this often per session / token
REFRESH_MARGIN = 120.0  # renew a token this long before it expires, so none dies in flight


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


class Accounts:
    """Browser sessions and tokens, for one process; cheap to make."""

    def __init__(self, engine: Engine, settings: Settings, *, flow: WebFlow | None = None,
                 clock: Callable[[], float] = time.time):
        self.engine, self.settings, self.clock = engine, settings, clock
        self.sealer = Sealer(settings.secret_keys)
        self.flow = flow or web_flow(settings, clock)

    def open_session(self, user_id: int, login: str, token: UserToken) -> str:
        """A new browser session for a person who just signed in, with their token; the id for the cookie."""
        session_id, now = secrets.token_urlsafe(32), self.clock()
        with self.engine.begin() as conn:
            conn.execute(web_sessions.insert().values(id_hash=id_hash(session_id), user_id=user_id, login=login,
                                                      created_at=now, last_seen_at=now))
            values = dict(login=login, **self._sealed(user_id, token, now))
            statement = dialect_insert(conn, user_tokens).values(user_id=user_id, keep=False, **values)
            conn.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))  # `keep` stays
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

    def access_token(self, user_id: int) -> str | None:
        """The person's user access token, renewed if it is about to expire; None when there is none
        usable any more (then the person is forgotten). OAuthUnavailable when GitHub cannot renew it now."""
        for _ in range(2):  # twice: another process may have renewed it while we tried
            with self.engine.connect() as conn:
                row = conn.execute(select(user_tokens).where(user_tokens.c.user_id == user_id)).first()
            if row is None:
                return None
            try:
                token = self.sealer.open(row.sealed, _context(user_id))
            except Unsealable as exc:  # its key left SECRET_KEY, or the row was altered
                log.warning("user %s: stored token unusable (%s); they must sign in again", user_id, exc)
                self.forget(user_id)
                return None
            now = self.clock()
            if token.expires_at is None or now < token.expires_at - REFRESH_MARGIN:
                if now - row.last_used_at >= TOUCH_EVERY:
                    with self.engine.begin() as conn:
                        conn.execute(update(user_tokens).where(user_tokens.c.user_id == user_id)
                                     .values(last_used_at=now))
                return token.access_token
            renewed = self._renew(row, token, now)
            if renewed is not None:
                return renewed.access_token
        return None

    def forget(self, user_id: int) -> None:
        """Forget the person: every browser session of theirs, their token, their cached access."""
        user_access.forget_user(self.engine, user_id)

    def keep_token(self, user_id: int, keep: bool) -> None:
        """The person's choice: keep their token beyond the browser session, or not."""
        with self.engine.begin() as conn:
            conn.execute(update(user_tokens).where(user_tokens.c.user_id == user_id)
                         .values(keep=keep, updated_at=self.clock()))

    def token_kept(self, user_id: int) -> bool:
        """Whether the person chose to keep their token beyond the browser session."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(user_tokens.c.keep).where(user_tokens.c.user_id == user_id)).scalar())

    def _renew(self, row, token: UserToken, now: float) -> UserToken | None:
        """A refreshed token, stored; None when GitHub refused (or another process refreshed first)."""
        if not token.refresh_token or (token.refresh_expires_at is not None and now >= token.refresh_expires_at):
            self.forget(row.user_id)
            return None
        try:
            renewed = self.flow.refresh(token.refresh_token)
        except OAuthRefused as exc:
            with self.engine.begin() as conn:
                # Refresh tokens are single-use: a row written since we read it holds a newer one.
                gone = conn.execute(delete(user_tokens).where(user_tokens.c.user_id == row.user_id,
                                                              user_tokens.c.updated_at == row.updated_at)).rowcount
            if gone:
                log.info("user %s: GitHub refused the refresh (%s); they must sign in again", row.user_id, exc.error)
                self.forget(row.user_id)
            return None
        with self.engine.begin() as conn:  # an update only: a sign-out meanwhile is not undone
            conn.execute(update(user_tokens).where(user_tokens.c.user_id == row.user_id)
                         .values(**self._sealed(row.user_id, renewed, now)))
        return renewed

    def _sealed(self, user_id: int, token: UserToken, now: float) -> dict:
        return dict(sealed=self.sealer.seal(token, _context(user_id)), expires_at=token.expires_at,
                    refresh_expires_at=token.refresh_expires_at, last_used_at=now, updated_at=now)


def web_flow(settings: Settings, clock: Callable[[], float] = time.time) -> WebFlow:
    """The App's OAuth client on GITHUB_URL, with the bot's timeouts."""
    return WebFlow(settings.github_url, settings.github_client_id or "", settings.github_client_secret or "",
                   timeout=(settings.github_connect_timeout, settings.github_read_timeout), clock=clock)


def _context(user_id: int) -> bytes:
    """What a sealed token is bound to: its owner."""
    return b"user:%d" % user_id
