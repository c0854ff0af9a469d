"""A person's GitHub App user access token, sealed in `user_tokens`: stored at sign-in, renewed with its
refresh token shortly before it expires, forgotten when GitHub refuses the refresh (the authorization
was revoked) or no current key opens it.

Two uses. The web, while the person's browser session lives, uses whatever token is stored
(`access_token`; bot/web/accounts.py). A job acting for a person (a Copilot task started with their
token) uses `kept_access_token`: only a token the person chose to keep beyond the browser session
(`keep`, on the account page), found by GitHub user id or login, and None for anyone else.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from bot.caches import user_access
from bot.config import Settings
from bot.db import dialect_insert, user_tokens
from bot.github.oauth import OAuthRefused, UserToken, WebFlow
from bot.people.sealing import Sealer, Unsealable

log = logging.getLogger(__name__)

TOUCH_EVERY = 60.0  # last_used_at (and a browser session's last_seen_at) is written at most this often
REFRESH_MARGIN = 120.0  # renew a token this long before it expires, so none dies in flight


class Tokens:
    """People's tokens, for one process; cheap to make."""

    def __init__(self, engine: Engine, settings: Settings, *, flow: WebFlow | None = None,
                 clock: Callable[[], float] = time.time):
        self.engine, self.settings, self.clock = engine, settings, clock
        self.sealer = Sealer(settings.secret_keys)
        self.flow = flow or web_flow(settings, clock)

    def store(self, conn: Connection, user_id: int, login: str, token: UserToken, now: float) -> None:
        """Keep the token of a person who just signed in, in the caller's transaction; their choice to
        keep it beyond the browser session stays as it was (not kept, for a first sign-in)."""
        values = dict(login=login, **self._sealed(user_id, token, now))
        statement = dialect_insert(conn, user_tokens).values(user_id=user_id, keep=False, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))

    def access_token(self, user_id: int) -> str | None:
        """The person's user access token, renewed if it is about to expire; None when there is none
        usable any more (then the person is forgotten). OAuthUnavailable when GitHub cannot renew it now."""
        return self._usable(user_id, kept_only=False)

    def kept_access_token(self, user_id: int | None = None, *, login: str | None = None,
                          touch: bool = True) -> str | None:
        """The token of the person with this GitHub user id (or, failing an id, this login: any case,
        and only while one kept token bears it), renewed as `access_token` does; None unless they
        chose to keep it, or once it is revoked, signed out or unusable. `touch=False`: a use the
        person did not ask for (a periodic refresh), which keeps the token no longer from its idle
        prune (USER_TOKEN_IDLE_SECONDS)."""
        if user_id is None and login is not None:
            with self.engine.connect() as conn:
                found = conn.execute(select(user_tokens.c.user_id).where(
                    func.lower(user_tokens.c.login) == login.lower(), user_tokens.c.keep.is_(True))).scalars().all()
            user_id = found[0] if len(found) == 1 else None  # two: a login renamed and taken again
        return None if user_id is None else self._usable(user_id, kept_only=True, touch=touch)

    def kept_people(self) -> list[tuple[int, str]]:
        """(user id, login) of everyone who chose to keep their token, by id: those a job may act for."""
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(select(user_tokens.c.user_id, user_tokens.c.login)
                                                       .where(user_tokens.c.keep.is_(True)).order_by(user_tokens.c.user_id))]

    def keep_token(self, user_id: int, keep: bool) -> None:
        """The person's choice: keep their token beyond the browser session, or not."""
        with self.engine.begin() as conn:
            conn.execute(update(user_tokens).where(user_tokens.c.user_id == user_id)
                         .values(keep=keep, updated_at=self.clock()))

    def token_kept(self, user_id: int) -> bool:
        """Whether the person chose to keep their token beyond the browser session."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(user_tokens.c.keep).where(user_tokens.c.user_id == user_id)).scalar())

    def forget(self, user_id: int) -> None:
        """Forget the person: every browser session of theirs, their token, their cached access."""
        user_access.forget_user(self.engine, user_id)

    def _usable(self, user_id: int, *, kept_only: bool, touch: bool = True) -> str | None:
        for _ in range(2):  # twice: another process may have renewed it while we tried
            with self.engine.connect() as conn:
                row = conn.execute(select(user_tokens).where(user_tokens.c.user_id == user_id)).first()
            if row is None or (kept_only and not row.keep):
                return None
            try:
                token = self.sealer.open(row.sealed, _context(user_id))
            except Unsealable as exc:  # its key left SECRET_KEY, or the row was altered
                log.warning("user %s: stored token unusable (%s); they must sign in again", user_id, exc)
                self.forget(user_id)
                return None
            now = self.clock()
            if token.expires_at is None or now < token.expires_at - REFRESH_MARGIN:
                if touch and now - row.last_used_at >= TOUCH_EVERY:
                    with self.engine.begin() as conn:
                        conn.execute(update(user_tokens).where(user_tokens.c.user_id == user_id)
                                     .values(last_used_at=now))
                return token.access_token
            renewed = self._renew(row, token, now, touch)
            if renewed is not None:
                return renewed.access_token
        return None

    def _renew(self, row, token: UserToken, now: float, touch: bool) -> UserToken | None:
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
        values = self._sealed(row.user_id, renewed, now)
        if not touch:
            values["last_used_at"] = row.last_used_at
        with self.engine.begin() as conn:  # an update only: a sign-out meanwhile is not undone
            conn.execute(update(user_tokens).where(user_tokens.c.user_id == row.user_id).values(**values))
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
