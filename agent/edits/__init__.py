"""The agent's safe-editing core: parse model edits, place them, apply them atomically.

``parse_edit_blocks(text)`` reads search/replace blocks; ``resolve_edits(root, blocks)`` places
them (exact, whitespace-insensitive, then unique fuzzy match) and returns ``FileChange``s plus
failures with candidates for the model; ``apply_edit_set(root, EditSet(...), undo)`` writes a
set of changes all-or-nothing after path, secret, staleness and syntax checks;
``split_hunks``/``apply_hunks`` let a person accept a change hunk by hunk.
"""

from __future__ import annotations

from agent.edits.apply import AppliedEditSet, apply_edit_set
from agent.edits.blocks import EditBlock, parse_edit_blocks
from agent.edits.changes import ChangeKind, EditSet, FileChange, diffstat, render_diff
from agent.edits.errors import (
    ApplyError,
    EditBlockParseError,
    EditError,
    InvalidEditSetError,
    PathOutsideRepoError,
    PathRefusedError,
    ProtectedPathError,
    SecretFileError,
    StaleFileError,
    SyntaxCheckError,
    SyntaxProblem,
)
from agent.edits.hunks import apply_hunks, hunk_count, split_hunks
from agent.edits.match import Candidate, MatchMethod
from agent.edits.paths import PathGuard
from agent.edits.resolve import (
    EditFailure,
    EditNote,
    EditResolution,
    change_for_delete,
    change_for_write,
    resolve_edits,
)
from agent.edits.syntax import syntax_problems

__all__ = [
    "AppliedEditSet",
    "ApplyError",
    "Candidate",
    "ChangeKind",
    "EditBlock",
    "EditBlockParseError",
    "EditError",
    "EditFailure",
    "EditNote",
    "EditResolution",
    "EditSet",
    "FileChange",
    "InvalidEditSetError",
    "MatchMethod",
    "PathGuard",
    "PathOutsideRepoError",
    "PathRefusedError",
    "ProtectedPathError",
    "SecretFileError",
    "StaleFileError",
    "SyntaxCheckError",
    "SyntaxProblem",
    "apply_edit_set",
    "apply_hunks",
    "change_for_delete",
    "change_for_write",
    "diffstat",
    "hunk_count",
    "parse_edit_blocks",
    "render_diff",
    "resolve_edits",
    "split_hunks",
    "syntax_problems",
]
