"""Search/replace blocks in model text, in the fenced format Aider made common::

    path/to/file.py
    ```python
    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE
    ```

The path line sits above the fence (or just inside it); a block without one edits the file
of the block before it. An empty SEARCH section creates a file that does not exist yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.edits.errors import EditBlockParseError

_HEAD = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_UPDATED = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PATH_PREFIX = re.compile(r"^(file(name)?|path)\s*:\s*", re.IGNORECASE)
_PATH_LOOKBACK = 3
"""How many lines above a SEARCH marker may hold its path (fences and blanks included)."""


@dataclass(frozen=True)
class EditBlock:
    """Replace ``search`` with ``replace`` in ``path`` (repository-relative)."""

    path: str
    search: str
    """Exact text to find; empty means "create the file with ``replace``"."""
    replace: str
    line: int = 0
    """1-based line of the SEARCH marker in the model text (0 for tool-call edits)."""


def parse_edit_blocks(text: str) -> list[EditBlock]:
    """Every search/replace block in ``text``, in order.

    Raises ``EditBlockParseError`` (with the line) for a block without a divider or end
    marker, or one whose file path cannot be found.
    """
    lines = text.splitlines()
    blocks: list[EditBlock] = []
    current_path: str | None = None
    i = 0
    while i < len(lines):
        if _DIVIDER.match(lines[i]) and _looks_like_stray_divider(lines, i):
            raise EditBlockParseError("'=======' without a '<<<<<<< SEARCH' line above it", i + 1)
        if _UPDATED.match(lines[i]):
            raise EditBlockParseError("'>>>>>>> REPLACE' without a '<<<<<<< SEARCH' block", i + 1)
        if not _HEAD.match(lines[i]):
            i += 1
            continue
        head = i
        path = _path_above(lines, head) or current_path
        if path is None:
            raise EditBlockParseError(
                "SEARCH block without a file path; put the path on the line above the fence",
                head + 1)
        search, i = _section(lines, head + 1, _DIVIDER, "'======='", head)
        replace, i = _section(lines, i + 1, _UPDATED, "'>>>>>>> REPLACE'", head)
        blocks.append(EditBlock(path=path, search=_join(search), replace=_join(replace),
                                line=head + 1))
        current_path = path
        i += 1
    return blocks


def _section(lines: list[str], start: int, end: re.Pattern[str], what: str,
             head: int) -> tuple[list[str], int]:
    """Lines from ``start`` up to the ``end`` marker, and the marker's index."""
    for j in range(start, len(lines)):
        if end.match(lines[j]):
            return lines[start:j], j
        if _HEAD.match(lines[j]) or (end is _UPDATED and _DIVIDER.match(lines[j])):
            raise EditBlockParseError(
                f"block opened on line {head + 1} has no {what} before line {j + 1}", j + 1)
        if end is _DIVIDER and _UPDATED.match(lines[j]):
            raise EditBlockParseError(
                f"block opened on line {head + 1} reaches '>>>>>>> REPLACE' without '======='",
                j + 1)
    raise EditBlockParseError(f"block opened on line {head + 1} never ends: {what} missing",
                              head + 1)


def _looks_like_stray_divider(lines: list[str], i: int) -> bool:
    """A divider counts as stray only when a REPLACE marker follows before any SEARCH.

    Markdown uses ``=======`` to underline headings, so a lone one is not an error.
    """
    for j in range(i + 1, len(lines)):
        if _HEAD.match(lines[j]):
            return False
        if _UPDATED.match(lines[j]):
            return True
    return False


def _path_above(lines: list[str], head: int) -> str | None:
    """The file path written just above a SEARCH marker, skipping fences and blank lines."""
    for j in range(head - 1, max(-1, head - 1 - _PATH_LOOKBACK), -1):
        raw = lines[j].strip()
        if not raw or _FENCE.match(raw):
            continue
        return clean_path(raw)
    return None


_BARE_NAMES = frozenset({
    "Makefile", "GNUmakefile", "Dockerfile", "Containerfile", "Gemfile", "Rakefile", "Procfile",
    "Jenkinsfile", "Vagrantfile", "Justfile", "Brewfile", "LICENSE", "README", "CODEOWNERS",
})
"""File names without a dot or folder that still count as paths on a line of their own."""


def clean_path(raw: str) -> str | None:
    """``raw`` without markdown decoration (``**`a.py`**:``, ``# a.py``), or None if not a path.

    A bare word counts only when quoted in backticks or a well-known name (``Makefile``), so
    a line of prose such as ``Fix:`` is not taken for a file.
    """
    quoted = "`" in raw
    name = raw.strip().strip("`*_'\"").strip()
    name = name.lstrip("#").strip().rstrip(":").strip().strip("`*_'\"")
    name = _PATH_PREFIX.sub("", name).strip("`*_'\" ")
    if not name or len(name) > 255 or any(ch.isspace() for ch in name):
        return None
    if _HEAD.match(name) or _DIVIDER.match(name) or _UPDATED.match(name) or "```" in name:
        return None
    if "." not in name and "/" not in name and not quoted and name not in _BARE_NAMES:
        return None
    return name


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
