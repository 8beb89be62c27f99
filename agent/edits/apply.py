"""Apply an edit set to the repository: checked, snapshotted for undo, all files or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.edits.atomic import write_files_atomically
from agent.edits.changes import EditSet, FileChange, render_diff
from agent.edits.errors import (
    InvalidEditSetError,
    StaleFileError,
    SyntaxCheckError,
    SyntaxProblem,
)
from agent.edits.paths import PathGuard, RepoPath
from agent.edits.syntax import introduced_problems
from agent.undo import UndoPoint, UndoStore


@dataclass(frozen=True)
class AppliedEditSet:
    """An edit set that is now on disk."""

    undo_point: UndoPoint | None
    """The snapshot taken just before writing (None when no undo store was given)."""
    diff: str
    files: list[str]
    changes: list[FileChange]

    @property
    def undo_point_id(self) -> str | None:
        return self.undo_point.id if self.undo_point is not None else None


def apply_edit_set(root: Path | str, edit_set: EditSet, undo: UndoStore | None = None, *,
                   check_syntax: bool = True,
                   secret_patterns: Sequence[str] = ()) -> AppliedEditSet:
    """Write every change of ``edit_set`` or none of them.

    In order: every path is checked (``PathOutsideRepoError``, ``ProtectedPathError``,
    ``SecretFileError``); every file must still hold the text the change was planned
    against (``StaleFileError``); with ``check_syntax``, a set whose new texts add
    tree-sitter syntax errors is refused (``SyntaxCheckError`` with file:line, nothing
    written); then an undo point is taken and the files are written atomically
    (``ApplyError`` after a full rollback if the disk fails).
    """
    guard = PathGuard(Path(root), secret_patterns)
    targets = _check_paths(guard, edit_set.changes)
    for change, target in zip(edit_set.changes, targets):
        _check_fresh(change, target)
    if check_syntax:
        problems: list[SyntaxProblem] = []
        for change in edit_set.changes:
            if change.after is not None:
                problems.extend(introduced_problems(change.path, change.before, change.after))
        if problems:
            raise SyntaxCheckError(problems)
    point = None
    if undo is not None:
        label = edit_set.description or "edit " + ", ".join(t.rel for t in targets[:3])
        point = undo.snapshot(f"before edits: {label}",
                              include=[t.real.relative_to(guard.root).as_posix()
                                       for t in targets if t.real.exists()])
    write_files_atomically([
        (t.real, c.after.encode("utf-8") if c.after is not None else None)
        for c, t in zip(edit_set.changes, targets)])
    return AppliedEditSet(undo_point=point, diff=render_diff(edit_set.changes),
                          files=[t.rel for t in targets], changes=list(edit_set.changes))


def _check_paths(guard: PathGuard, changes: list[FileChange]) -> list[RepoPath]:
    if not changes:
        raise InvalidEditSetError("the edit set is empty")
    targets, seen = [], set()
    for change in changes:
        target = guard.check(change.path)
        if target.real in seen:
            raise InvalidEditSetError(f"{change.path}: changed twice in one edit set; "
                                      "merge the changes into one")
        seen.add(target.real)
        targets.append(target)
    return targets


def _check_fresh(change: FileChange, target: RepoPath) -> None:
    try:
        on_disk: bytes | None = target.real.read_bytes()
    except FileNotFoundError:
        on_disk = None
    except OSError as exc:
        raise StaleFileError(change.path, f"cannot read it: {exc.strerror or exc}") from exc
    if change.before is None:
        if on_disk is not None:
            raise StaleFileError(change.path, "it exists now, but the edit creates it")
    elif on_disk is None:
        raise StaleFileError(change.path, "it was deleted")
    elif on_disk != change.before.encode("utf-8"):
        raise StaleFileError(change.path, "its content differs")
