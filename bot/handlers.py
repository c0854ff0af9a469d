"""Which handlers exist: importing a module registers its event handlers and job kinds."""

from bot import events, installations  # noqa: F401
from bot.sessions import backfill, tracking  # noqa: F401
from bot.commands import intake, run  # noqa: F401
# The commands that exist.
from bot.commands import help as help_command, list as list_command, log, stop  # noqa: F401
from bot import status_comment  # noqa: F401  (after the index: it reads what tracking wrote)
from bot import retention  # noqa: F401  (periodic: the daily prune)
from bot.deliveries import recovery  # noqa: F401  (periodic: missed-delivery recovery)
