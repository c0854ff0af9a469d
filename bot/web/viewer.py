"""Who is looking at the Agents page or its API, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """A signed-in person (the repositories GitHub says they can access) or the operator's ADMIN_TOKEN
    (every repository). Every read of the index for the page is narrowed by `repository_ids`."""

    login: str | None  # GitHub login; None for the operator's token
    user_id: int | None
    repository_ids: frozenset[int] | None  # None: every repository (the operator)

    @property
    def is_operator(self) -> bool:
        return self.repository_ids is None

    def sees(self, repository_id: int) -> bool:
        """Whether this viewer may see (anything of) the repository."""
        return self.repository_ids is None or repository_id in self.repository_ids


OPERATOR = Viewer(login=None, user_id=None, repository_ids=None)
