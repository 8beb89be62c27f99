"""Which paths the agent may read and write, and how their text is read.

Every path is checked before its file is opened: it must stay inside the repository after
``..`` and symlinks are resolved, stay out of ``.git/`` and ``.engram/``, and not name a
secret file (by its own name or by the name of the file a symlink points at).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.edits.errors import (
    EditError,
    PathOutsideRepoError,
    PathRefusedError,
    ProtectedPathError,
    SecretFileError,
)
from indexer.secrets import SecretFilter
from indexer.workspace import STATE_DIR_NAME

PROTECTED_DIRS = frozenset({".git", STATE_DIR_NAME})


@dataclass(frozen=True)
class RepoPath:
    """A checked path: how the edit names it and the real file to read and write."""

    rel: str
    """Normalized, repository-relative, ``/``-separated."""
    real: Path
    """Absolute, symlinks resolved (a symlink inside the repo is edited through)."""


class PathGuard:
    """Checks paths against one repository root and its secret patterns."""

    def __init__(self, root: Path, secret_patterns: Sequence[str] = ()) -> None:
        self.root = Path(root).resolve()
        self._secrets = SecretFilter(secret_patterns)

    def check(self, path: str) -> RepoPath:
        """``path`` as a ``RepoPath``; raises a ``PathRefusedError`` subclass when refused."""
        if not path or "\0" in path:
            raise PathRefusedError(repr(path), "not a valid file path")
        raw = Path(path).expanduser() if path.startswith("~") else Path(path)
        if raw.is_absolute():
            absolute = Path(os.path.normpath(raw))
            if not absolute.is_relative_to(self.root):
                raise PathOutsideRepoError(path, "absolute path outside the repository")
            rel = absolute.relative_to(self.root).as_posix()
        else:
            rel = posixpath.normpath(path.replace(os.sep, "/"))
        if rel in (".", "") or rel == ".." or rel.startswith("../"):
            raise PathOutsideRepoError(path, "points outside the repository")
        self._check_name(path, rel)
        real = (self.root / rel).resolve()
        if not real.is_relative_to(self.root) or real == self.root:
            raise PathOutsideRepoError(path, "a symlink leads outside the repository")
        real_rel = real.relative_to(self.root).as_posix()
        if real_rel != rel:
            self._check_name(path, real_rel)
        if real.is_dir():
            raise PathRefusedError(path, "is a folder, not a file")
        return RepoPath(rel=rel, real=real)

    def _check_name(self, shown: str, rel: str) -> None:
        parts = rel.split("/")
        if parts[0] in PROTECTED_DIRS or ".git" in parts:
            raise ProtectedPathError(shown, f"inside {parts[0]}/, which the agent never edits")
        if self._secrets.is_secret(rel):
            raise SecretFileError(shown, "secret file (keys, credentials, .env); never read or written")


def read_text(path: Path, shown: str) -> str | None:
    """The file's text exactly as stored (newlines kept), or None when it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EditError(f"{shown}: cannot read ({exc.strerror or exc})") from exc
    if b"\0" in data[:8192]:
        raise EditError(f"{shown}: binary file; only text files can be edited")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"{shown}: not UTF-8 text (byte at offset {exc.start}); "
                        "cannot edit it safely") from exc
