"""Turn parsed edit blocks (or tool-call edits) into file changes, without writing anything.

Blocks for one file apply in order to its evolving text. A block that cannot be placed
becomes an ``EditFailure`` (reason + closest candidates) for the model to retry; the other
blocks still resolve, so the caller decides whether a partial set is worth applying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.edits.blocks import EditBlock
from agent.edits.changes import FileChange
from agent.edits.errors import EditError
from agent.edits.match import (
    FUZZY_THRESHOLD,
    Candidate,
    MatchMethod,
    Replaced,
    match_diff,
    replace_in_text,
)
from agent.edits.paths import PathGuard, RepoPath, read_text


@dataclass(frozen=True)
class EditFailure:
    """A block that was not applied, why, and where the file looks most like its SEARCH."""

    block: EditBlock
    reason: str
    candidates: list[Candidate] = field(default_factory=list)

    def __str__(self) -> str:
        where = f" (block at line {self.block.line})" if self.block.line else ""
        text = f"{self.block.path}{where}: {self.reason}"
        if self.candidates:
            text += "\nclosest matches in the file:\n" + "\n".join(str(c) for c in self.candidates)
        return text


@dataclass(frozen=True)
class EditNote:
    """A block that applied, but not by an exact match (the diff shows what differed)."""

    block: EditBlock
    method: MatchMethod
    similarity: float
    start_line: int
    end_line: int
    diff: str

    def __str__(self) -> str:
        how = ("ignoring whitespace" if self.method == "whitespace"
               else f"fuzzily ({round(self.similarity * 100)}% similar)")
        text = (f"{self.block.path}: SEARCH matched lines {self.start_line}-{self.end_line} "
                f"{how}")
        return f"{text}\n{self.diff}" if self.method == "fuzzy" and self.diff else text


@dataclass
class EditResolution:
    """What a list of blocks would do: the changes, the failed blocks, notes on fuzzy matches."""

    changes: list[FileChange]
    failures: list[EditFailure]
    notes: list[EditNote]

    @property
    def ok(self) -> bool:
        """True when every block found its place."""
        return not self.failures

    def feedback(self) -> str:
        """Failures then notes, as text for the model."""
        parts = [f"FAILED {f}" for f in self.failures] + [f"NOTE {n}" for n in self.notes]
        return "\n\n".join(parts)


@dataclass
class _FileState:
    path: RepoPath
    original: str | None
    current: str | None


def resolve_edits(root: Path | str, blocks: Sequence[EditBlock], *,
                  secret_patterns: Sequence[str] = (),
                  fuzzy_threshold: float = FUZZY_THRESHOLD) -> EditResolution:
    """Place every block in its file and return the resulting changes; writes nothing."""
    guard = PathGuard(Path(root), secret_patterns)
    files: dict[str, _FileState] = {}
    failures: list[EditFailure] = []
    notes: list[EditNote] = []
    for block in blocks:
        try:
            state = _state_for(guard, files, block.path)
        except EditError as exc:  # refused path, unreadable or binary file
            failures.append(EditFailure(block, str(exc)))
            continue
        current = state.current
        if not block.search.strip():
            if current is not None and current.strip():
                failures.append(EditFailure(
                    block, "the file already exists; an empty SEARCH only creates new files, "
                    "so quote the lines to replace"))
            else:
                state.current = block.replace
            continue
        if current is None:
            failures.append(EditFailure(
                block, "the file does not exist; to create it, leave the SEARCH section empty"))
            continue
        outcome = replace_in_text(current, block.search, block.replace,
                                  fuzzy_threshold=fuzzy_threshold)
        if not isinstance(outcome, Replaced):
            failures.append(EditFailure(block, outcome.reason, outcome.candidates))
            continue
        state.current = outcome.text
        if outcome.method != "exact":
            notes.append(EditNote(
                block, outcome.method, outcome.similarity, outcome.start_line, outcome.end_line,
                match_diff(block.search, outcome.matched, state.path.rel)))
    changes = [FileChange(s.path.rel, s.original, s.current)
               for s in files.values() if s.current != s.original]
    return EditResolution(changes=changes, failures=failures, notes=notes)


def _state_for(guard: PathGuard, files: dict[str, _FileState], path: str) -> _FileState:
    checked = guard.check(path)
    state = files.get(checked.rel)
    if state is None:
        text = read_text(checked.real, checked.rel)
        state = files[checked.rel] = _FileState(checked, text, text)
    return state


def change_for_write(root: Path | str, path: str, text: str, *,
                     secret_patterns: Sequence[str] = ()) -> FileChange:
    """The change that makes ``path`` hold exactly ``text`` (a ``write_file`` tool call)."""
    checked = PathGuard(Path(root), secret_patterns).check(path)
    return FileChange(checked.rel, read_text(checked.real, checked.rel), text)


def change_for_delete(root: Path | str, path: str, *,
                      secret_patterns: Sequence[str] = ()) -> FileChange:
    """The change that deletes ``path`` (a ``delete_file`` tool call)."""
    checked = PathGuard(Path(root), secret_patterns).check(path)
    before = read_text(checked.real, checked.rel)
    if before is None:
        raise EditError(f"{checked.rel}: cannot delete, the file does not exist")
    return FileChange(checked.rel, before, None)

