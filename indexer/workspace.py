"""Where a project lives on disk and where Engram keeps its per-project state.

Every package that stores per-project state (the index cache, memory, sessions) asks
``state_dir`` for ``<repo>/.engram``; the first call also adds ``.engram/`` to the
repository's ``.git/info/exclude`` so the state is never committed.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_NAME = ".engram"
_EXCLUDE_LINE = f"{STATE_DIR_NAME}/"


class WorkspaceError(Exception):
    """A path that cannot serve as a project (missing, not a folder, unreadable)."""


def find_project_root(path: Path | str) -> Path:
    """Return the enclosing git work tree of ``path``, or ``path`` itself outside git.

    Raises ``WorkspaceError`` with a one-line message when the path does not exist or is
    not a folder.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise WorkspaceError(f"path does not exist: {p}")
    if not p.is_dir():
        raise WorkspaceError(f"not a folder: {p}")
    p = p.resolve()
    for candidate in (p, *p.parents):
        if (candidate / ".git").exists():
            return candidate
    return p


def git_dir(root: Path) -> Path | None:
    """The git directory of a work tree (``.git`` may be a file for worktrees/submodules)."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text.split(":", 1)[1].strip())
            return target if target.is_absolute() else (root / target).resolve()
    return None


def state_dir(root: Path, *, create: bool = True) -> Path:
    """``<root>/.engram``, created on first use and excluded from git."""
    d = root / STATE_DIR_NAME
    if create and not d.is_dir():
        d.mkdir(parents=True, exist_ok=True)
        _exclude_from_git(root)
    return d


def _exclude_from_git(root: Path) -> None:
    gd = git_dir(root)
    if gd is None:
        return
    exclude = gd / "info" / "exclude"
    try:
        existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if any(line.strip() in (_EXCLUDE_LINE, STATE_DIR_NAME, f"/{_EXCLUDE_LINE}")
               for line in existing.splitlines()):
            return
        exclude.parent.mkdir(parents=True, exist_ok=True)
        sep = "" if existing.endswith("\n") or not existing else "\n"
        with open(exclude, "a", encoding="utf-8") as fh:
            fh.write(f"{sep}{_EXCLUDE_LINE}\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        # A read-only .git must not stop the product; the state simply shows as untracked.
        return
