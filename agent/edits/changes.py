"""What an edit does to one file (``FileChange``), a set of them (``EditSet``), and diffs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from agent.edits.hunks import CONTEXT_LINES

ChangeKind = Literal["create", "modify", "delete"]


@dataclass(frozen=True)
class FileChange:
    """One file's text before and after; ``None`` means the file does not exist."""

    path: str
    """Repository-relative, ``/``-separated."""
    before: str | None
    after: str | None

    def __post_init__(self) -> None:
        if self.before is None and self.after is None:
            raise ValueError(f"{self.path}: a change needs a before or an after text")

    @property
    def kind(self) -> ChangeKind:
        if self.before is None:
            return "create"
        if self.after is None:
            return "delete"
        return "modify"

    def diff(self, context: int = CONTEXT_LINES) -> str:
        """A unified diff (``a/`` and ``b/`` prefixes, ``/dev/null`` for created/deleted)."""
        old = self.before.splitlines(keepends=True) if self.before is not None else []
        new = self.after.splitlines(keepends=True) if self.after is not None else []
        lines = list(difflib.unified_diff(
            old, new,
            fromfile="/dev/null" if self.before is None else f"a/{self.path}",
            tofile="/dev/null" if self.after is None else f"b/{self.path}",
            n=context))
        out = []
        for line in lines:
            if line.endswith("\n"):
                out.append(line)
            else:  # the last line of a file without a final newline
                out.append(line + "\n\\ No newline at end of file\n")
        return "".join(out)

    def stats(self) -> tuple[int, int]:
        """Lines added and removed."""
        added = removed = 0
        for line in self.diff(context=0).splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
        return added, removed


@dataclass(frozen=True)
class EditSet:
    """Changes to several files that apply together or not at all."""

    changes: list[FileChange]
    description: str = ""
    """Why the edits are made (shown with the undo point)."""

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


def render_diff(changes: Iterable[FileChange]) -> str:
    """One unified diff for all ``changes``, in order."""
    return "".join(change.diff() for change in changes)


def diffstat(changes: Iterable[FileChange]) -> str:
    """``path | +a -r`` per file and a total line, like ``git diff --stat`` in words."""
    rows, total_added, total_removed, count = [], 0, 0, 0
    for change in changes:
        added, removed = change.stats()
        total_added, total_removed, count = total_added + added, total_removed + removed, count + 1
        rows.append(f"{change.path} ({change.kind}) +{added} -{removed}")
    rows.append(f"{count} file(s) changed, +{total_added} -{total_removed}")
    return "\n".join(rows)
