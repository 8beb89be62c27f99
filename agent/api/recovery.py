"""After a crash: put back an edit set that a killed process left half (or un-recorded) applied.

The checkpoint of an interrupted task holds the edit set it was about to apply, with each
file's text before and after. When the files on disk show some or all of that set (the
process died between writing and checkpointing), they are returned to the "before" text in
one atomic step, so the resumed task applies the set exactly once, whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agent.edits.atomic import write_files_atomically

_LEFTOVER_SUFFIXES = (".engram-tmp", ".engram-bak")


def files_to_restore(root: Path, edit: dict[str, Any]) -> list[tuple[Path, bytes | None]]:
    """The writes that return ``edit``'s files to their "before" state (empty when none
    of them shows the edit)."""
    writes: list[tuple[Path, bytes | None]] = []
    for change in edit.get("changes", []):
        target = root / change["path"]
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        before, after = change.get("before"), change.get("after")
        if current == after and current != before:
            writes.append((target, before.encode("utf-8") if before is not None else None))
    return writes


def remove_leftovers(root: Path) -> list[str]:
    """Delete temp and backup files the atomic writer left behind when killed."""
    removed = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".engram")]
        for name in files:
            if name.startswith(".") and name.endswith(_LEFTOVER_SUFFIXES):
                path = Path(folder) / name
                path.unlink(missing_ok=True)
                removed.append(path.relative_to(root).as_posix())
    return removed


async def repair_interrupted_edit(root: Path, thread_id: str) -> list[str]:
    """Undo the on-disk part of the edit set the checkpoint of ``thread_id`` had not
    recorded as applied; returns the repaired paths."""
    from agent.session import load_checkpoint  # langgraph loads only when recovering

    state = await load_checkpoint(root, thread_id)
    remove_leftovers(root)
    pending = (state or {}).get("pending") or {}
    edit = pending.get("edit")
    if not edit or edit.get("failures"):
        return []
    writes = files_to_restore(root, edit)
    if writes:
        write_files_atomically(writes)
    return [p.relative_to(root).as_posix() for p, _ in writes]
