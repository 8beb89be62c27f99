"""``@file`` mentions: completing a path after ``@``, and the files a task's mentions pin."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

_MENTION = re.compile(r"(?:^|\s)@([\w./\-]+)")
_SKIP_DIRS = {".git", ".engram", "__pycache__", "node_modules", ".venv", "venv", ".tox"}


def project_files(root: Path, limit: int = 200_000) -> list[str]:
    """The project's files, fast: ``git ls-files`` in a repository, else a walk."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, timeout=20)
        if proc.returncode == 0:
            names = [n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n]
            return sorted(set(names))[:limit]
    except (OSError, subprocess.SubprocessError):
        pass
    found: list[str] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        found.append(rel.as_posix())
        if len(found) >= limit:
            break
    return sorted(found)


def mention_prefix(value: str) -> str | None:
    """The partial path after a trailing ``@`` word of ``value``, or None."""
    word = value.rsplit(" ", 1)[-1]
    return word[1:] if word.startswith("@") else None


def complete(prefix: str, files: Sequence[str], limit: int = 8) -> list[str]:
    """Paths matching ``prefix``: path prefixes first, then file-name prefixes, then substrings."""
    if not prefix:
        return list(files[:limit])
    low = prefix.lower()
    starts, names, contains = [], [], []
    for path in files:
        lp = path.lower()
        if lp.startswith(low):
            starts.append(path)
        elif lp.rsplit("/", 1)[-1].startswith(low):
            names.append(path)
        elif low in lp:
            contains.append(path)
        if len(starts) >= limit:
            break
    return (starts + names + contains)[:limit]


def mentioned(task: str, files: Iterable[str]) -> list[str]:
    """Files named with ``@path`` in ``task`` that exist in ``files``, in order, once each."""
    known = set(files)
    out: list[str] = []
    for match in _MENTION.finditer(task):
        path = match.group(1).rstrip(".,;:")
        if path in known and path not in out:
            out.append(path)
    return out


def to_pin(task: str, files: Iterable[str]) -> list[str]:
    """What ``task``'s ``@mentions`` pin: the project's files it names, and mentions that look
    like paths but are not (yet) known here: the agent checks those and says why it skips one."""
    known = set(files)
    out: list[str] = []
    for match in _MENTION.finditer(task):
        path = match.group(1).rstrip(".,;:")
        if path and path not in out and (path in known or "/" in path or "." in path.strip(".")):
            out.append(path)
    return out
