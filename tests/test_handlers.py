"""Where webhook handlers live, and the order they run in."""

from __future__ import annotations

from pathlib import Path

import bot.handlers
from bot import events


def test_every_webhook_handler_lives_in_bot_handlers():
    homes = {function.__module__ for functions in events._registry.values() for function in functions}
    jobs_only = {"bot.handlers.timeline", "bot.handlers.watchdog", "bot.handlers.task_refresh"}  # jobs alone
    assert homes == {module.__name__ for module in bot.handlers.ORDER} - jobs_only


def test_handlers_of_one_event_run_in_the_declared_order():
    rank = {module.__name__: n for n, module in enumerate(bot.handlers.ORDER)}
    for name, functions in events._registry.items():
        ranks = [rank[function.__module__] for function in functions]
        assert ranks == sorted(ranks), f"{name}: {[f.__module__ for f in functions]}"


def test_every_module_of_bot_handlers_is_declared():
    folder = Path(bot.handlers.__file__).parent
    modules = {f"bot.handlers.{path.stem}" for path in folder.glob("*.py") if path.stem != "__init__"}
    assert modules == {module.__name__ for module in bot.handlers.ORDER}
