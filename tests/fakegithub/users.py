"""People who sign in to the App: their accounts, which repositories they can reach, their user
access tokens (`ghu_`, with `ghr_` refresh tokens), and the API routes such a token calls.

A user access token reaches what both the person and the App reach ("Generating a user access
token for a GitHub App": repositories A and B for the App, B and C for the person, B for the
token). On a repository route it acts as the installation covering that repository, narrowed to
it, so the fake's reach and permission checks apply as they do to an installation token; the
person's own role on the repository (read or write) is not modelled: a grant means full access.

Which credential each route takes, and GitHub's refusal of the others:
- `/user…`: a user token. An installation token or an app JWT gets 403 "Resource not accessible
  by integration" (observed on `GET /user`: actions/create-github-app-token#258; on
  `/user/installations/{id}/repositories`: octokit/app.js#522).
- `/installation…`: an installation token. A user token gets 403 "You must authenticate with an
  installation access token in order to list repositories for an installation."
- `/app…`: an app JWT; anything else cannot be decoded as one (401, answering.py).
- A revoked, rotated, expired or unknown user token: 401 "Bad credentials".
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.github.permissions import NOT_ACCESSIBLE

from . import auth, objects
from .openapi import spec
from .wire import Recorded, Response, error

if TYPE_CHECKING:
    from .answering import Route
    from .server import FakeGitHub

USER_TOKEN_LIFETIME = 28800  # 8 hours, GitHub's `expires_in`
REFRESH_TOKEN_LIFETIME = 15897600  # GitHub's `refresh_token_expires_in` (about 6 months)
INSTALLATION_ONLY = ("You must authenticate with an installation access token in order to list "
                     "repositories for an installation.")
REVOKED = "revoked"  # why a token stopped working, when a test (not the bot) stopped it


@dataclass
class UserToken:
    """A user access or refresh token the fake issued, and its pair."""

    value: str
    login: str
    expires_at: float       # on the fake's clock; what the bot was told
    real_expires_at: float  # on the true clock; a token used after this is the bot's fault
    pair: str               # the refresh token of an access token, and the other way round
    dead: str | None = None  # REVOKED, or "rotated" once its refresh token was used


def _value(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


class Users:
    """The fake's people and their tokens; reached as `fake.users`."""

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.accounts: dict[str, dict] = {}       # lower-case login → the `GET /user` object
        self.grants: dict[str, set[str]] = {}     # lower-case login → lower-case full names
        self.access: dict[str, UserToken] = {}    # ghu_… → token
        self.refresh: dict[str, UserToken] = {}   # ghr_… → token

    def add_user(self, login: str, *, user_id: int | None = None, name: str | None = None) -> dict:
        """Add (or replace) a person; returns their `GET /user` object."""
        user = objects._rehome(spec().example("private-user-response-with-public-profile-information"),
                               self.fake.url, **{"/octocat": f"/{login}"})
        number = user_id if user_id is not None else objects.stable_id("user", login)
        user.update(login=login, id=number, node_id=objects.node_id("User", number), name=name,
                    avatar_url=f"https://avatars.githubusercontent.com/u/{number}?v=4",
                    company=None, blog="", location=None, email=None, hireable=None, bio=None,
                    twitter_username=None, public_repos=0, public_gists=0, followers=0, following=0,
                    created_at=objects._CREATED, updated_at=objects._CREATED)
        with self.fake._lock:
            self.accounts[login.lower()] = user
            self.grants.setdefault(login.lower(), set())
        return user

    def user(self, login: str) -> dict:
        """A person's object; KeyError naming `add_user` when the fake does not know them."""
        found = self.accounts.get(login.lower())
        if found is None:
            raise KeyError(f"no user {login!r}: fake.add_user({login!r}) first")
        return found

    def grant(self, login: str, *full_names: str) -> None:
        """Let `login` reach these repositories ("owner/name")."""
        self.user(login)
        with self.fake._lock:
            self.grants[login.lower()].update(n.lower() for n in full_names)

    def revoke_user(self, login: str) -> None:
        """The person revokes the App's authorization: every token of theirs stops working."""
        self.user(login)
        with self.fake._lock:
            for token in [*self.access.values(), *self.refresh.values()]:
                if token.login.lower() == login.lower():
                    token.dead = token.dead or REVOKED
            self.fake.signin.forget_codes(login)

    # tokens

    def mint(self, login: str) -> tuple[UserToken, UserToken]:
        """A new access token and its refresh token for `login`, with the fake's lifetimes."""
        now, true_now = self.fake.now(), time.time()
        access_life, refresh_life = self.fake.user_token_lifetime, self.fake.refresh_token_lifetime
        access_value, refresh_value = _value("ghu_", 36), _value("ghr_", 76)
        access = UserToken(access_value, login, now + access_life, true_now + access_life, refresh_value)
        refresh = UserToken(refresh_value, login, now + refresh_life, true_now + refresh_life, access_value)
        with self.fake._lock:
            self.access[access.value], self.refresh[refresh.value] = access, refresh
        return access, refresh

    def rotate(self, refresh_value: str) -> tuple[UserToken, UserToken] | None:
        """A new pair for a live refresh token; it and its access token stop working. None when
        the refresh token is unknown, used, revoked or expired."""
        with self.fake._lock:
            old = self.refresh.get(refresh_value)
            if old is None or old.dead or self.fake.now() >= old.expires_at:
                return None
            old.dead = "rotated"
            self.access[old.pair].dead = self.access[old.pair].dead or "rotated"
        return self.mint(old.login)

    def reachable(self, login: str, installation_id: int) -> list[str]:
        """The installation's repositories (full names, sorted) that `login` can reach."""
        granted = self.grants.get(login.lower(), set())
        names = self.fake.installation_repositories.get(installation_id, [])
        return sorted((n for n in names if n.lower() in granted), key=str.lower)

    def installations(self, login: str) -> list[dict]:
        """The installations of this App holding a repository `login` can reach, by id."""
        return [self.fake.installations[i] for i in sorted(self.fake.installations)
                if self.reachable(login, i)]

    def as_installation(self, credential: str, params: dict) -> auth.Token | None:
        """What a user token reaches on a route naming a repository (or an organization): the
        installation covering it, narrowed to the repositories the person reaches there. None
        when the person and the App share no such repository (GitHub answers 404)."""
        token = self.access[credential]
        for installation_id in sorted(self.fake.installations):
            shared = self.reachable(token.login, installation_id)
            if "owner" in params and "repo" in params:
                wanted = f"{params['owner']}/{params['repo']}".lower()
                shared = [n for n in shared if n.lower() == wanted]
            elif "org" in params:
                account = self.fake.installations[installation_id]["account"]["login"]
                shared = shared if account.lower() == str(params["org"]).lower() else []
            else:
                shared = []
            if shared:
                return auth.Token(credential, installation_id, token.expires_at, token.real_expires_at,
                                  dict(self.fake.installations[installation_id]["permissions"]), shared)
        return None

    def refusal(self, route: Route, kind: str | None, scheme: str | None,
                credential: str | None) -> tuple[Response | None, bool]:
        """GitHub's refusal of a request to `route` made with a user token, or of a request to a
        `/user…` route made with anything else; and whether the bot is at fault."""
        if credential is None:
            return error(401, auth.REQUIRES_AUTHENTICATION), True
        token = self.access.get(credential)
        if token is None:
            return self._not_a_user_token(route, kind, credential)
        if scheme not in ("token", "bearer"):
            return error(401, auth.BAD_CREDENTIALS), True
        if token.dead:
            return error(401, auth.BAD_CREDENTIALS), token.dead != REVOKED
        if self.fake.now() >= token.expires_at:
            return error(401, auth.BAD_CREDENTIALS), time.time() >= token.real_expires_at
        if route.template.startswith("/installation"):
            return error(403, INSTALLATION_ONLY, _documentation(route)), True
        return None, False

    def _not_a_user_token(self, route: Route, kind: str | None,
                          credential: str) -> tuple[Response, bool]:
        if kind == "jwt":
            issuers = {str(self.fake.app_id), self.fake.app["client_id"]}
            message = auth.jwt_refusal(credential, self.fake.public_key, issuers, self.fake.now())
            if message:
                return error(401, message), True
        else:
            installation_token = self.fake.tokens.get(credential)
            if installation_token is None:
                return error(401, auth.BAD_CREDENTIALS), True
            if self.fake.now() >= installation_token.expires_at:
                return error(401, auth.BAD_CREDENTIALS), time.time() >= installation_token.real_expires_at
        return error(403, NOT_ACCESSIBLE, _documentation(route)), True


def _documentation(route: Route) -> str:
    """The route's page in GitHub's docs, as GitHub names it in a refusal."""
    operation = spec().document["paths"][route.template][route.method.lower()]
    return operation["externalDocs"]["url"]


def register(fake: FakeGitHub) -> None:
    """`fake.users`, `fake.add_user`, `fake.grant`, `fake.revoke_user`, the token lifetimes
    (`fake.user_token_lifetime`, `fake.refresh_token_lifetime`, seconds a test may shrink), and
    the `/user…` routes."""
    users = Users(fake)
    fake.users = users
    fake.add_user, fake.grant, fake.revoke_user = users.add_user, users.grant, users.revoke_user
    fake.user_token_lifetime = USER_TOKEN_LIFETIME
    fake.refresh_token_lifetime = REFRESH_TOKEN_LIFETIME

    def login_of(req: Recorded) -> str:
        return users.access[auth.split_authorization(req.headers.get("authorization"))[2]].login

    @fake.route("GET", "/user", auth="user")
    def get_user(req: Recorded, params: dict):
        return 200, users.user(login_of(req))

    @fake.route("GET", "/user/installations", auth="user")
    def list_installations(req: Recorded, params: dict):
        installations = users.installations(login_of(req))
        page, headers = fake.paginate(req, installations)
        return Response(200, {"total_count": len(installations), "installations": page}, headers)

    @fake.route("GET", "/user/installations/{installation_id}/repositories", auth="user")
    def list_installation_repositories(req: Recorded, params: dict):
        names = users.reachable(login_of(req), params["installation_id"])
        if not names:
            return error(404, "Not Found")  # GitHub hides an installation the person cannot reach
        repositories = [fake.repositories[n.lower()] for n in names]
        page, headers = fake.paginate(req, [objects.repository(r["full_name"], r["owner"], fake.url,
                                                               private=r["private"]) for r in repositories])
        return Response(200, {"total_count": len(names), "repositories": page}, headers)
