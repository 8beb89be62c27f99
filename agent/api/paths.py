"""Confining client-given paths to a repository (and repositories to the allowed roots)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class PathRefused(Exception):
    """A path outside the repository or the allowed roots; the message says why (HTTP 403)."""


def confine(root: Path, rel: str) -> Path:
    """``rel`` inside ``root``, resolved. Absolute paths, ``..`` and symlinks that lead
    out of ``root`` raise ``PathRefused``."""
    if not rel or "\x00" in rel:
        raise PathRefused("give a path relative to the repository")
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or os.path.isabs(rel) or (pure.parts and ":" in pure.parts[0]):
        raise PathRefused(f"{rel!r} is absolute; give a path relative to the repository")
    if ".." in pure.parts:
        raise PathRefused(f"{rel!r} climbs out with '..'")
    base = root.resolve()
    target = (base / pure).resolve()
    if target != base and base not in target.parents:
        raise PathRefused(f"{rel!r} leads outside the repository (a symlink out?)")
    return target


def confine_repository(path: str, roots: list[Path]) -> Path:
    """The repository folder ``path`` (resolved), if it lies under one of ``roots``."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        raise PathRefused(f"{path!r}: give the repository as an absolute path")
    resolved = candidate.resolve()
    for root in roots:
        if resolved == root or root in resolved.parents:
            return resolved
    allowed = ", ".join(str(r) for r in roots)
    raise PathRefused(f"{resolved} is not under an allowed root ({allowed}); "
                      f"start the server with --root")
