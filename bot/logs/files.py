"""What the agent did to which files: the checkout's files by relative path, every other path kept whole."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from bot.redact import clipped, window

# Actions checks a repository out in /home/runner/work/<name>/<name>; its siblings (_temp, _actions,
# _tool) and its parent are the runner's, not the repository's.
_WORKSPACES = "/home/runner/work/"


@dataclass
class FileActivity:
    """What the agent did to one file: `path` is relative to the repository, or absolute outside it."""

    path: str
    reads: int = 0
    edits: int = 0
    created: bool = False


def locate(path: str) -> tuple[bool, str]:
    """(in the repository?, path): a path in the checkout relative to it ("" for the checkout itself);
    any other path normalised but otherwise as given (an absolute one stays absolute)."""
    path = posixpath.normpath(path)  # `<checkout>/../../_temp/x` is not in the checkout
    if not path.startswith(_WORKSPACES):
        return False, path
    parts = path[len(_WORKSPACES):].split("/", 2)
    if len(parts) < 2 or parts[0] != parts[1]:
        return False, path
    return True, parts[2] if len(parts) == 3 else ""


class FileLog:
    """Reads, edits and creations by file, for at most `limit` files; counts the calls that name a file."""

    def __init__(self, limit: int, chars: int):
        self.limit, self.chars = limit, chars
        self.files: dict[tuple[bool, str], FileActivity] = {}
        self.omitted = self.reads = self.edits = self.creates = 0

    def record(self, action: str, path: str) -> None:
        """The agent read, edited or created `path` ("read", "edit" or "create")."""
        if action == "read":
            self.reads += 1
        elif action == "edit":
            self.edits += 1
        else:
            self.creates += 1
        path = window(path, self.chars)
        if not path:  # too long to keep, and no space to cut it at: a file not kept, like those past the limit
            self.omitted += 1
            return
        inside, where = locate(path)
        if inside and not where:
            return  # the repository itself: the agent looking around
        activity = self.files.get((inside, where))
        if activity is None:
            if len(self.files) >= self.limit:
                self.omitted += 1
                return
            activity = self.files[inside, where] = FileActivity(where)
        if action == "read":
            activity.reads += 1
        elif action == "edit":
            activity.edits += 1
        else:
            activity.created = True

    def kept(self, inside: bool) -> list[FileActivity]:
        """The files in the repository (or, `inside` false, elsewhere), in the order first touched, clipped."""
        return [FileActivity(clipped(f.path, self.chars), f.reads, f.edits, f.created)
                for (where, _), f in self.files.items() if where is inside]
