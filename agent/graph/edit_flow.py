"""Edits of one model answer -> one atomic edit set, through the edit core (agent.edits).

Search/replace blocks in the text and edit tool calls (edit_file, write_file, delete_file)
are resolved together; any failure sends the whole set back to the model, since a set applies
all files or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.edits import (
    AppliedEditSet, EditBlock, EditError, EditSet, FileChange, SyntaxCheckError, apply_edit_set,
    change_for_delete, change_for_write, parse_edit_blocks, render_diff, resolve_edits,
)
from agent.edits.hunks import apply_hunks, hunk_count, split_hunks
from agent.events import FileDiff
from agent.undo import UndoStore

EDIT_TOOLS = ("edit_file", "write_file", "delete_file")


@dataclass
class ProposedEdits:
    """What one answer asks to change, resolved against the files as they are now."""

    changes: list[FileChange] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    call_ids: list[str] = field(default_factory=list)
    from_text: bool = False

    @property
    def empty(self) -> bool:
        return not self.changes and not self.failures

    def to_state(self, set_id: str, description: str) -> dict[str, Any]:
        return {
            "id": set_id, "description": description, "call_ids": self.call_ids,
            "from_text": self.from_text, "failures": self.failures, "notes": self.notes,
            "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in self.changes],
        }


def propose(root: Path, text: str, tool_calls: list[dict[str, Any]],
            secret_patterns: list[str]) -> ProposedEdits:
    """Parse the blocks in ``text`` and the edit tool calls, and resolve them; writes nothing."""
    out = ProposedEdits()
    blocks: list[EditBlock] = []
    if "<<<<<<<" in text or ">>>>>>>" in text:
        out.from_text = True
        try:
            blocks = parse_edit_blocks(text)
        except EditError as exc:
            out.failures.append(f"search/replace block: {exc}")
    whole: list[FileChange] = []
    for call in tool_calls:
        out.call_ids.append(call["id"])
        args = call.get("args") or {}
        try:
            if call["name"] == "edit_file":
                blocks.append(EditBlock(path=str(args["path"]), search=str(args["search"]),
                                        replace=str(args["replace"])))
            elif call["name"] == "write_file":
                whole.append(change_for_write(root, str(args["path"]), str(args["content"]),
                                              secret_patterns=secret_patterns))
            else:
                whole.append(change_for_delete(root, str(args["path"]),
                                               secret_patterns=secret_patterns))
        except KeyError as exc:
            out.failures.append(f"{call['name']}: missing argument {exc}")
        except EditError as exc:
            out.failures.append(f"{call['name']}: {exc}")
    if blocks:
        resolution = resolve_edits(root, blocks, secret_patterns=secret_patterns)
        out.failures.extend(str(f) for f in resolution.failures)
        out.notes.extend(str(n) for n in resolution.notes)
        out.changes.extend(resolution.changes)
    seen = {c.path for c in out.changes}
    for change in whole:
        if change.path in seen:
            out.failures.append(f"{change.path}: changed twice in one answer (edit and "
                                f"write/delete); send one change per file")
            continue
        seen.add(change.path)
        out.changes.append(change)
    return out


def without_hunks(edit: dict[str, Any], rejected: dict[str, list[int]]) -> tuple[dict[str, Any] | None, list[str]]:
    """``edit`` less the ``rejected`` hunks (path -> hunk indices), and each left-out hunk as
    text for the model. ``None`` when nothing is left to apply. Indices are checked by the
    session before they get here."""
    kept: list[dict[str, Any]] = []
    left_out: list[str] = []
    for change in changes_of(edit):
        skip = set(rejected.get(change.path, ()))
        if skip:
            hunks = split_hunks(change.diff()) or [f"({change.kind} {change.path})\n"]
            left_out.extend(f"{change.path}, hunk {i}:\n```diff\n{_short(hunks[i])}```"
                            for i in sorted(skip) if i < len(hunks))
        if not skip:
            kept.append({"path": change.path, "before": change.before, "after": change.after})
        elif change.before is not None and change.after is not None and \
                len(skip) < hunk_count(change.before, change.after):
            kept.append({"path": change.path, "before": change.before,
                         "after": apply_hunks(change.before, change.after, skip)})
    if not kept:
        return None, left_out
    return {**edit, "changes": kept}, left_out


def _short(hunk: str, limit: int = 1_500) -> str:
    return hunk if len(hunk) <= limit else hunk[:limit] + "... (hunk shortened)\n"


def hunk_counts(changes: list[FileChange]) -> dict[str, int]:
    """Hunks per file of an edit set, as the approval request offers them."""
    return {c.path: hunk_count(c.before, c.after) for c in changes}


def changes_of(edit: dict[str, Any]) -> list[FileChange]:
    return [FileChange(c["path"], c["before"], c["after"]) for c in edit["changes"]]


def file_diffs(changes: list[FileChange]) -> list[FileDiff]:
    return [FileDiff(path=c.path, action=c.kind, diff=c.diff()) for c in changes]


def diff_text(changes: list[FileChange]) -> str:
    return render_diff(changes)


class EditRejected(Exception):
    """The edit core refused the set; nothing is on disk. ``failures`` go to the model."""

    def __init__(self, reason: str, failures: list[str]) -> None:
        super().__init__(reason)
        self.failures = failures


def apply(root: Path, edit: dict[str, Any], undo: UndoStore,
          secret_patterns: list[str]) -> AppliedEditSet:
    """Apply the set atomically with a syntax check and an undo point, or ``EditRejected``."""
    edit_set = EditSet(changes_of(edit), description=edit["description"])
    try:
        return apply_edit_set(root, edit_set, undo, check_syntax=True,
                              secret_patterns=secret_patterns)
    except SyntaxCheckError as exc:
        raise EditRejected(str(exc), [str(p) for p in exc.problems]) from exc
    except EditError as exc:
        raise EditRejected(str(exc), [str(exc)]) from exc
