"""Hunks of one file's diff, so a person can accept an edit set hunk by hunk.

``FileChange.diff`` (hence ``FileDiff.diff`` in the events) is a ``difflib.unified_diff`` with
``CONTEXT_LINES`` of context; its hunks are exactly the groups of
``SequenceMatcher.get_grouped_opcodes(CONTEXT_LINES)`` over the same lines. So hunk ``i`` of
``split_hunks(diff)`` is the hunk ``apply_hunks(old, new, rejected={i})`` leaves out.
A created or a deleted file is one hunk (index 0), also when it is empty.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

CONTEXT_LINES = 3
"""Lines of context around each hunk (the ``n`` of ``difflib.unified_diff``)."""


def split_hunks(diff: str) -> list[str]:
    """The ``@@ ... @@`` hunks of one file's unified diff, in order, each with its ``@@`` line
    (the ``---``/``+++`` header is not part of any hunk)."""
    hunks: list[list[str]] = []
    for line in diff.splitlines(keepends=True):
        if line.startswith("@@"):
            hunks.append([line])
        elif hunks:  # lines before the first hunk are the file header
            hunks[-1].append(line)
    return ["".join(h) for h in hunks]


def hunk_count(old: str | None, new: str | None) -> int:
    """Hunks of the change from ``old`` to ``new`` (None: the file does not exist)."""
    if old is None or new is None:
        return 1
    return sum(1 for _ in _groups(old, new))


def apply_hunks(old: str, new: str, rejected: Collection[int]) -> str:
    """The text of ``old`` with every hunk of the diff to ``new`` applied except ``rejected``
    (indices as in ``split_hunks``); indices that name no hunk are ignored."""
    if not rejected:
        return new
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for index, group in enumerate(_groups(old, new)):
        keep_old = index in rejected
        for tag, i1, i2, j1, j2 in group:
            out.extend(a[pos:i1])
            if tag == "equal" or keep_old:
                out.extend(a[i1:i2])
            else:
                out.extend(b[j1:j2])
            pos = i2
    out.extend(a[pos:])
    return "".join(out)


def _groups(old: str, new: str) -> list[list[tuple[str, int, int, int, int]]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    groups = difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(CONTEXT_LINES)
    # identical texts give one all-equal group, which unified_diff does not print
    return [g for g in groups if not (len(g) == 1 and g[0][0] == "equal")]
