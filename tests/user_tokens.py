"""A person's tokens in tests: GitHub's token endpoint as a stub (`Refresher`) and tokens as the web
flow gives them (`token`). The storage rules are tested with these (tests/test_web_accounts.py,
tests/test_people_tokens.py); tests/test_web_signin.py signs in through the fake GitHub end to end."""

from __future__ import annotations

from bot.github.oauth import OAuthRefused, UserToken

HOUR = 3600.0


class Refresher:
    """GitHub's token endpoint for refreshes: hands out numbered tokens, or refuses once told to."""

    def __init__(self, clock):
        self.clock, self.calls, self.refuse, self.before = clock, [], False, None

    def refresh(self, refresh_token: str) -> UserToken:
        self.calls.append(refresh_token)
        if self.before:
            self.before()
        if self.refuse:
            raise OAuthRefused("bad_refresh_token", "The refresh token passed is incorrect or expired.")
        n = len(self.calls)
        return UserToken(f"ghu_renewed{n}", f"ghr_renewed{n}", self.clock() + 8 * HOUR, self.clock() + 180 * 24 * HOUR)


def token(clock, name="first", lifetime=8 * HOUR) -> UserToken:
    """A token named `name` (`ghu_<name>`, `ghr_<name>`) expiring in `lifetime` seconds on `clock`."""
    return UserToken(f"ghu_{name}", f"ghr_{name}", clock() + lifetime, clock() + 180 * 24 * HOUR)
