"""Reviewing a proposed edit set hunk by hunk before it is applied.

Hunk ``i`` of a file here is hunk ``i`` of ``agent.edits.hunks.split_hunks`` on that file's
``FileDiff.diff``: the index the agent expects in ``rejected_hunks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.app.diffs import FilePatch, Hunk, parse_diff


def file_patches(files: Sequence[Any]) -> list[FilePatch]:
    """One ``FilePatch`` per ``FileDiff`` (path, action, diff), its hunks split as the agent
    splits them."""
    from agent.edits.hunks import (
        split_hunks,  # the agent's edit package: not needed at start-up
    )

    patches: list[FilePatch] = []
    for f in files:
        patch = FilePatch(f.path, f.action)
        for text in split_hunks(f.diff):
            parsed = parse_diff(text, default_path=f.path)
            hunks = parsed[0].hunks if parsed else []
            # Exactly one hunk per split piece, so the indices never drift from the agent's.
            patch.hunks.append(hunks[0] if hunks else Hunk(0, 0, lines=text.splitlines()[1:]))
        patches.append(patch)
    return patches


@dataclass
class HunkSelection:
    """Which hunks of a proposed edit set the user keeps (all of them at first)."""

    patches: list[FilePatch]
    off: list[set[int]] = field(default_factory=list)
    """Per file, the hunk indices toggled off."""

    def __post_init__(self) -> None:
        if not self.off:
            self.off = [set() for _ in self.patches]

    def hunks_in(self, f: int) -> int:
        """Hunks of file ``f``; an empty created file still counts as one (index 0)."""
        return max(1, len(self.patches[f].hunks))

    @property
    def total(self) -> int:
        return sum(self.hunks_in(f) for f in range(len(self.patches)))

    @property
    def kept(self) -> int:
        return self.total - sum(len(off) for off in self.off)

    def toggle_hunk(self, f: int, h: int) -> None:
        self.off[f] ^= {h}

    def toggle_file(self, f: int) -> None:
        """All of the file off, or (when it is all off already) all of it back on."""
        every = set(range(self.hunks_in(f)))
        self.off[f] = set() if self.off[f] == every else every

    def rejected_hunks(self) -> dict[str, list[int]]:
        """``path -> sorted indices`` of the hunks toggled off (files with none left out)."""
        return {p.path: sorted(off) for p, off in zip(self.patches, self.off) if off}

    def states(self) -> list[list[str]]:
        """``on``/``off`` per shown hunk, for ``DiffView``."""
        return [["off" if h in off else "on" for h in range(len(p.hunks))]
                for p, off in zip(self.patches, self.off)]

    def positions(self) -> list[tuple[int, int | None]]:
        """What the cursor can stand on, top to bottom: each hunk, or a file without hunks."""
        out: list[tuple[int, int | None]] = []
        for f, patch in enumerate(self.patches):
            out.extend([(f, h) for h in range(len(patch.hunks))] or [(f, None)])
        return out
