"""Which handlers exist: importing a module registers its event handlers and job kinds."""

from bot import events, installations  # noqa: F401
from bot.sessions import backfill, tracking  # noqa: F401
