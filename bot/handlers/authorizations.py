"""What a person's sign-in leaves behind, deleted when GitHub says it no longer holds.

- `github_app_authorization.revoked`: the person (the delivery's sender) revoked the App's
  authorization, so their token is dead: their browser sessions, sealed token and cached access go.
- `installation.deleted`: cached access naming the installation goes (it is asked again on the next
  page view), and so do the sign-ins of people whose only access was through it.

Both only delete what the bot keeps of a person, so a replayed delivery costs at most a sign-in.
"""

from __future__ import annotations

import logging

from bot.caches import user_access
from bot.events import Context, on
from bot.shapes import ID, INSTALLATION

log = logging.getLogger(__name__)


@on("github_app_authorization.revoked", shape={"sender": {"id": ID}})
def authorization_revoked(ctx: Context) -> None:
    """Forget the person who revoked the App's authorization."""
    user_access.forget_user(ctx.runtime.engine, ctx.payload["sender"]["id"])


@on("installation.deleted", shape={"installation": INSTALLATION})
def installation_deleted(ctx: Context) -> None:
    """Drop access that went through the uninstalled installation."""
    forgotten = user_access.forget_installation(ctx.runtime.engine, ctx.installation_id)
    if forgotten:
        log.info("installation %s deleted: signed out %d person(s) whose only access it was",
                 ctx.installation_id, len(forgotten))
