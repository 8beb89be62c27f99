"""Undo for everything the agent does: snapshots in a shadow git repository.

``UndoStore.open(root)``; ``snapshot(label)`` before each edit set and command;
``undo_last()`` / ``restore(point)`` put the files back exactly. The user's own git
repository (index, HEAD, branches, stash, history) is never touched.
"""

from __future__ import annotations

from agent.undo.models import (
    PathChange,
    RestoreResult,
    UndoError,
    UndoPoint,
    UndoPointNotFoundError,
)
from agent.undo.store import UndoStore

__all__ = [
    "PathChange",
    "RestoreResult",
    "UndoError",
    "UndoPoint",
    "UndoPointNotFoundError",
    "UndoStore",
]
