"""What the undo store hands out: points, the changes a restore made, and its errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

RestoreStatus = Literal["added", "modified", "deleted", "mode"]


class UndoError(Exception):
    """The undo store cannot do what was asked; the message says why in one line."""


class UndoPointNotFoundError(UndoError):
    """No undo point (or saved state) has the given id."""


@dataclass(frozen=True)
class UndoPoint:
    """A snapshot of the project's files taken before the agent changed something."""

    id: str
    label: str
    created_at: datetime
    files_changed: tuple[str, ...] = ()
    """Files that restoring this point changes: those that differ between it and the state
    after it (the next point, or the files on disk for the newest point). Empty on a point
    just taken."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["files_changed"] = list(self.files_changed)
        return data


@dataclass(frozen=True)
class PathChange:
    """One file a restore put back, seen from the restore: ``added`` means re-created."""

    path: str
    status: RestoreStatus
    lines_added: int | None = None
    """None for binary files."""
    lines_removed: int | None = None


@dataclass(frozen=True)
class RestoreResult:
    """What restoring a point did."""

    point: UndoPoint
    changes: list[PathChange] = field(default_factory=list)
    saved_state: str = ""
    """Id of a snapshot of the files as they were just before the restore; restoring that
    id brings them back."""

    def to_dict(self) -> dict[str, Any]:
        return {"point": self.point.to_dict(), "saved_state": self.saved_state,
                "changes": [asdict(c) for c in self.changes]}
