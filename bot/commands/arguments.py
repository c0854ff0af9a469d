"""The kinds of argument a command declares: which session, a flag, a free-text reason. Pure.

Each kind reads its words from a command line, says how it reads in the help (`[N|all]`) and
in the reply to a malformed line ("a session number or `all`"). Flags are taken wherever they
stand; then the other arguments take their words in the order declared; a word nobody takes
makes the line malformed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection

MAX_SESSION = 1_000_000  # a session number is below this: a longer one is a typo, not a session


@dataclass(frozen=True)
class SessionChoice:
    """Which session a line names: `number`, every running one (`every`), or neither: the latest."""

    number: int | None = None
    every: bool = False


@dataclass(frozen=True)
class Session:
    """A session of the pull request: `N` (or `#N`); without it, the latest one (the latest running
    one with `running`). `latest` and `every` are the words, if any, for the latest and for every
    running session. `acts_on`: the states of the sessions the command changes, which its policy
    guards (None: all); the handler still sees the others, to report on them."""

    running: bool = False
    latest: str | None = None
    every: str | None = None
    acts_on: Collection[str] | None = None
    name: str = "session"

    def usage(self) -> str:
        """`[N|all]`."""
        return "[" + "|".join(["N", *(w for w in (self.latest, self.every) if w)]) + "]"

    def short_usage(self) -> str:
        """`[N]`: how the status comment's hint shows it."""
        return "[N]"

    def described(self) -> str:
        """"a session number or `all`"."""
        words = [f"`{w}`" for w in (self.latest, self.every) if w]
        return " or ".join(["a session number", *words])

    def take(self, words: list[str]) -> tuple[SessionChoice | None, list[str]]:
        """The choice the first word makes (if it is one), and the words left; None when the first
        word reads as a number but names no session (`0`, `-1`, `#1x`): the line is malformed, so a
        mistyped number never becomes the first word of a reason, and `/session stop 0 …` never
        stops the latest session instead."""
        if words:
            first = words[0].lower()
            if self.latest and first == self.latest:
                return SessionChoice(), words[1:]
            if self.every and first == self.every:
                return SessionChoice(every=True), words[1:]
            if (number := _number(words[0])) is not None:
                return SessionChoice(number=number), words[1:]
            if first.lstrip("#-")[:1].isdigit():
                return None, words
        return SessionChoice(), words


@dataclass(frozen=True)
class Flag:
    """A flag such as `--full`, in any case, anywhere on the line; its value is whether it was given."""

    word: str
    name: str = ""

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.word.lstrip("-").replace("-", "_"))

    def usage(self) -> str:
        """`[--full]`."""
        return f"[{self.word}]"

    def short_usage(self) -> str:
        """Flags are left out of the status comment's hint."""
        return ""

    def described(self) -> str:
        """"`--full`"."""
        return f"`{self.word}`"

    def take(self, words: list[str]) -> tuple[bool, list[str]]:
        """Whether the flag is among `words`, and the words without it."""
        rest = [w for w in words if w.lower() != self.word.lower()]
        return len(rest) < len(words), rest


@dataclass(frozen=True)
class Reason:
    """Free text, the rest of the line (its words joined by single spaces; "" when absent). `required`:
    a line without it is malformed (`/session start` says what it is for)."""

    name: str = "reason"
    required: bool = False

    def usage(self) -> str:
        """`[reason…]`, or `<prompt…>` when required."""
        return f"<{self.name}…>" if self.required else f"[{self.name}…]"

    def short_usage(self) -> str:
        """Left out of the status comment's hint, unless required: `<prompt…>`."""
        return self.usage() if self.required else ""

    def described(self) -> str:
        """"a reason"."""
        return f"a {self.name}"

    def take(self, words: list[str]) -> tuple[str | None, list[str]]:
        """All the words, as one text (None when there are none and it is required)."""
        if self.required and not words:
            return None, words
        return " ".join(words), []


Argument = Session | Flag | Reason


@dataclass(frozen=True)
class Arguments:
    """A command's parsed arguments, by their declared names (`args.full`, `args.session`, `args.reason`).

    For a command with a `Session` argument the dispatcher adds `sessions` (those it will act on,
    in order) and `refused` (a `Refusal`, or None: the sessions its policy kept it from).
    """

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(f"no argument {name!r}") from None

    def with_values(self, **values) -> Arguments:
        """These arguments and `values`."""
        return Arguments({**self.values, **values})


def read(arguments: tuple[Argument, ...], words: list[str]) -> Arguments | None:
    """The arguments `words` give, or None when a word is left that none of them takes (or one
    cannot read the word meant for it). A session takes its word before a reason takes the rest:
    `stop 2 wrong direction` is session 2, `stop wrong direction` the latest, both with a reason."""
    values: dict[str, Any] = {}
    for argument in sorted(arguments, key=lambda a: not isinstance(a, Flag)):  # flags first: they stand anywhere
        values[argument.name], words = argument.take(words)
        if values[argument.name] is None:
            return None
    return None if words else Arguments(values)


def _number(word: str) -> int | None:
    digits = word[1:] if word.startswith("#") else word
    try:
        number = int(digits) if digits.isdigit() else None
    except ValueError:  # a digit int() does not read, such as `²`: not a number, not a crash
        return None
    return number if number is not None and 0 < number < MAX_SESSION else None
