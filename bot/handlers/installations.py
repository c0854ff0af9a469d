"""The installations and repositories the App covers, kept from `installation*` webhooks.

On uninstall the installation's rows are deleted (repositories cascade); stored deliveries stay
until retention prunes them. What deletes is confirmed with GitHub first: a signed delivery can be
replayed under a new delivery id, and a replayed uninstall or removal must forget nothing GitHub
still has installed. A suspended installation is kept, and its deliveries other than
`installation*` are ignored until it is unsuspended (see bot.events.process_delivery).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import delete, select, update

from bot.db import dialect_insert, installations, repositories
from bot.events import Context, on
from bot.github import api
from bot.github.errors import GitHubError
from bot.sessions import store
from bot.shapes import FLAG, ID, INSTALLATION, REPO_NAME, TEXT, TIME, Maybe

log = logging.getLogger(__name__)

# What these handlers read of a delivery (bot.shapes).
FULL_INSTALLATION = {"installation": {"id": ID, "account": Maybe({"login": Maybe(TEXT), "type": Maybe(TEXT)}),
                                      "repository_selection": Maybe(TEXT), "suspended_at": Maybe(TIME)}}
CHANGED = {"installation": INSTALLATION, "repositories_removed": Maybe([{"id": ID}]),
           "repositories_added": Maybe([{"id": ID, "full_name": REPO_NAME, "private": Maybe(FLAG)}])}


@on("installation.created", "installation.unsuspend", "installation.new_permissions_accepted",
    shape=FULL_INSTALLATION)
def sync_installation(ctx: Context) -> None:
    """Record the installation and ask GitHub for every repository it covers.

    The payload's list can be partial, so the API's paginated list is the truth.
    """
    installation = ctx.payload["installation"]
    now = time.time()
    account = installation.get("account") or {}
    values = dict(account_login=account.get("login", "?"), account_type=account.get("type", "?"),
                  repository_selection=installation.get("repository_selection"),
                  suspended=installation.get("suspended_at") is not None, updated_at=now)
    with ctx.runtime.engine.begin() as conn:
        statement = dialect_insert(conn, installations).values(id=installation["id"], created_at=now, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))
    if values["suspended"]:
        return
    repos = list(api.installation_repositories(ctx.github))
    with ctx.runtime.engine.begin() as conn:
        conn.execute(delete(repositories).where(repositories.c.installation_id == installation["id"],
                                                repositories.c.id.not_in([r["id"] for r in repos])))
        _add_repositories(conn, installation["id"], repos, now)


@on("installation.suspend", shape={"installation": INSTALLATION})
def suspend_installation(ctx: Context) -> None:
    with ctx.runtime.engine.begin() as conn:
        conn.execute(update(installations).where(installations.c.id == ctx.installation_id)
                     .values(suspended=True, updated_at=time.time()))


@on("installation.deleted", shape={"installation": INSTALLATION})
def delete_installation(ctx: Context) -> None:
    """Forget an installation GitHub no longer has (GitHub answers 404 for it)."""
    try:
        api.installation(ctx.runtime.github.app(), ctx.installation_id)
    except GitHubError as exc:
        if exc.status != 404:
            raise
    else:
        log.warning("ignored installation.deleted for installation %s: GitHub still has it installed (a replay?)",
                    ctx.installation_id)
        return
    # The App may no longer read these repositories, so their sessions go too.
    store.forget(ctx.runtime.engine, installation_id=ctx.installation_id)
    with ctx.runtime.engine.begin() as conn:
        conn.execute(delete(repositories).where(repositories.c.installation_id == ctx.installation_id))
        conn.execute(delete(installations).where(installations.c.id == ctx.installation_id))


@on("installation_repositories.added", "installation_repositories.removed", shape=CHANGED)
def change_repositories(ctx: Context) -> None:
    """Add and remove the repositories the delivery names; a removal only of what GitHub no longer lists."""
    removed = [r["id"] for r in ctx.payload.get("repositories_removed") or []]
    if removed:
        still = {r["id"] for r in api.installation_repositories(ctx.github)}
        if still & set(removed):
            log.warning("kept repositories %s of installation %s: GitHub still lists them (a replay?)",
                        sorted(still & set(removed)), ctx.installation_id)
        removed = [r for r in removed if r not in still]
        store.forget(ctx.runtime.engine, repository_ids=removed)  # their sessions go, as on uninstall
    with ctx.runtime.engine.begin() as conn:
        known = conn.execute(select(installations.c.id).where(installations.c.id == ctx.installation_id)).first()
        if known is not None and removed:
            conn.execute(delete(repositories).where(repositories.c.id.in_(removed)))
        if known is not None:
            _add_repositories(conn, ctx.installation_id, ctx.payload.get("repositories_added") or [], time.time())
    if known is None:
        sync_installation(ctx)  # installation.created was missed or is late: list everything once


def _add_repositories(conn, installation_id: int, repos: list[dict], now: float) -> None:
    for repo in repos:
        values = dict(installation_id=installation_id, full_name=repo["full_name"],
                      private=bool(repo.get("private")))
        statement = dialect_insert(conn, repositories).values(id=repo["id"], added_at=now, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))
