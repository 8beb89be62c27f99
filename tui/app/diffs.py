"""Unified diffs as files and hunks, and taking one hunk (or a whole file) back out.

The agent reports every edit set as unified diffs (``agent.edits.render_diff``). The Changes
panel shows them hunk by hunk; rejecting a hunk puts its old lines back in the file on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


class RevertError(Exception):
    """A hunk or file that cannot be taken back out; the message says why in one line."""


@dataclass
class Hunk:
    """One ``@@`` block: its header numbers and its lines with their ``' '``/``-``/``+`` marks."""

    old_start: int
    new_start: int
    old_count: int = 0
    """Lines of the old side the header announced."""
    new_count: int = 0
    lines: list[str] = field(default_factory=list)
    """Each line keeps its mark and has no line ending; ``\\`` lines are dropped."""
    old_ends_without_newline: bool = False
    new_ends_without_newline: bool = False

    @property
    def header(self) -> str:
        old = sum(1 for ln in self.lines if ln[:1] in (" ", "-"))
        new = sum(1 for ln in self.lines if ln[:1] in (" ", "+"))
        return f"@@ -{self.old_start},{old} +{self.new_start},{new} @@"

    @property
    def old_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "-")]

    @property
    def new_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "+")]

    @property
    def added(self) -> int:
        return sum(1 for ln in self.lines if ln.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for ln in self.lines if ln.startswith("-"))


@dataclass
class FilePatch:
    """The hunks of one file; ``action`` as the agent names it."""

    path: str
    action: str = "modify"
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def removed(self) -> int:
        return sum(h.removed for h in self.hunks)


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name.startswith(("a/", "b/")) else name


def parse_diff(text: str, default_path: str = "") -> list[FilePatch]:
    """The files and hunks of a unified diff (several files allowed, headers optional)."""
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    old_name = ""
    last_mark = ""
    for raw in text.splitlines():
        if raw.startswith("--- ") and (hunk is None or _hunk_complete(hunk)):
            old_name, hunk = raw[4:], None
            continue
        if raw.startswith("+++ ") and (hunk is None or _hunk_complete(hunk)):
            new_name = raw[4:]
            created = old_name.strip() == "/dev/null"
            deleted = new_name.strip() == "/dev/null"
            path = _strip_prefix(old_name if deleted else new_name)
            current = FilePatch(path, "create" if created else "delete" if deleted else "modify")
            patches.append(current)
            hunk = None
            continue
        match = _HUNK_HEADER.match(raw)
        if match:
            if current is None:
                current = FilePatch(default_path)
                patches.append(current)
            hunk = Hunk(int(match.group(1)), int(match.group(3)),
                        int(match.group(2) or 1), int(match.group(4) or 1))
            current.hunks.append(hunk)
            continue
        if hunk is None:
            continue
        if raw.startswith("\\"):
            if raw.strip() == _NO_NEWLINE:
                if last_mark in (" ", "-"):
                    hunk.old_ends_without_newline = True
                if last_mark in (" ", "+"):
                    hunk.new_ends_without_newline = True
            continue
        mark = raw[:1] or " "
        if mark in (" ", "-", "+"):
            hunk.lines.append(raw if raw else " ")
            last_mark = mark
    return patches


def _hunk_complete(hunk: Hunk) -> bool:
    """Whether the hunk has all the lines its header announced (a ``---`` line inside an
    unfinished hunk is a removed line that starts with ``--``)."""
    return len(hunk.old_lines) >= hunk.old_count and len(hunk.new_lines) >= hunk.new_count


def _split(content: str) -> tuple[list[str], bool]:
    """Lines of ``content`` and whether it ends with a newline."""
    if content == "":
        return [], True
    return content.split("\n")[:-1] if content.endswith("\n") else content.split("\n"), \
        content.endswith("\n")


def _find(lines: list[str], block: list[str], near: int) -> int:
    """Index where ``block`` occurs in ``lines``, the occurrence closest to ``near``; -1 if none."""
    if not block:
        return min(max(near, 0), len(lines))
    width = len(block)
    best = -1
    for i in range(len(lines) - width + 1):
        if lines[i:i + width] == block and (best < 0 or abs(i - near) < abs(best - near)):
            best = i
    return best


def revert_hunk(content: str, hunk: Hunk) -> str:
    """``content`` with ``hunk`` taken back out (its new lines replaced by its old ones)."""
    lines, ends_newline = _split(content)
    new, old = hunk.new_lines, hunk.old_lines
    at = _find(lines, new, hunk.new_start - 1)
    if at < 0:
        raise RevertError(f"the file changed since this hunk ({hunk.header}); it cannot be "
                          "taken back out automatically")
    result = lines[:at] + old + lines[at + len(new):]
    at_end = at + len(new) == len(lines)
    if at_end:
        ends_newline = not hunk.old_ends_without_newline if old else ends_newline
    if not result:
        return ""
    return "\n".join(result) + ("\n" if ends_newline else "")


def revert_file(content: str | None, patch: FilePatch, skip: set[int] | None = None) -> str | None:
    """``content`` with every hunk of ``patch`` (except indexes in ``skip``) taken out.

    Returns ``None`` when the file should not exist (a created file rejected as a whole).
    """
    skip = skip or set()
    if patch.action == "create" and not skip:
        return None
    text = content or ""
    # Bottom to top, so earlier hunks' line numbers stay valid.
    for index in sorted(range(len(patch.hunks)), key=lambda i: patch.hunks[i].new_start,
                        reverse=True):
        if index not in skip:
            text = revert_hunk(text, patch.hunks[index])
    return text
