"""Which files make up the project.

In a git work tree: ``git ls-files -s`` (tracked files with their blob SHAs), ``git
diff-files`` (tracked files whose content may differ from that SHA, found with git's own
stat cache) and ``git ls-files --others --exclude-standard`` (untracked, not ignored).
Elsewhere: a walk that honours ``.gitignore`` files (pathspec), never follows symlinks and
does not enter vendored folders.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from indexer.errors import NotAWorkTreeError
from indexer.filters import PathFilter
from indexer.secrets import SecretFilter
from indexer.workspace import git_dir

_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file that may be indexed."""

    path: str
    """Relative to the project root, ``/``-separated."""
    sha: str | None = None
    """Blob SHA known from git for a clean tracked file; None when it must be worked out."""
    size: int = -1
    mtime_ns: int = -1
    """From the walk's stat, when it did one."""


@dataclass(slots=True)
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    is_git: bool = False


def check_not_bare(root: Path) -> None:
    """Refuse a bare repository: it has history but no files to index."""
    if (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir() \
            and not (root / ".git").exists():
        raise NotAWorkTreeError(
            f"{root} is a bare git repository (no work tree); index a clone or worktree of it"
        )


def discover(root: Path, path_filter: PathFilter, secrets: SecretFilter) -> Discovery:
    """List the project's files, leaving out secrets and vendored/generated/excluded paths."""
    found = Discovery()
    listed: list[Candidate] | None = None
    if git_dir(root) is not None:
        try:
            listed = _git_candidates(root, found)
            found.is_git = True
        except _GitUnavailable as exc:
            found.warnings.append(f"git could not list files ({exc}); walking the folder instead")
    if listed is None:
        listed = _walk(root, found)
    for cand in listed:
        if secrets.is_secret(cand.path):
            found.skipped["secret"] += 1
            continue
        reason = path_filter.reason(cand.path)
        if reason is not None:
            found.skipped[reason] += 1
            continue
        found.candidates.append(cand)
    return found


class _GitUnavailable(Exception):
    pass


def _git_candidates(root: Path, found: Discovery) -> list[Candidate]:
    staged = _git(root, "ls-files", "-s", "-z")
    dirty = set(_git(root, "diff-files", "--name-only", "-z").split("\0"))
    others = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    out: list[Candidate] = []
    seen: set[str] = set()
    for entry in staged.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, sha, stage = meta.split(" ")
        if path in seen:
            continue  # several stages of a merge conflict: work it out from the file
        seen.add(path)
        if mode == _SYMLINK_MODE:
            found.skipped["symlink"] += 1
            continue
        if mode == _SUBMODULE_MODE:
            found.skipped["submodule"] += 1
            continue
        clean = stage == "0" and path not in dirty
        out.append(Candidate(path, sha if clean else None))
    for path in others.split("\0"):
        if path and path not in seen and not path.endswith("/"):
            out.append(Candidate(path))
    return out


def _git(root: Path, *args: str) -> str:
    try:
        import git  # GitPython; imported here so a missing git binary only costs the fast path
    except ImportError as exc:
        raise _GitUnavailable("git is not installed") from exc
    try:
        return git.Git(str(root)).execute(
            ["git", "-c", "core.quotepath=off", *args], strip_newline_in_stdout=False
        )
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise _GitUnavailable(detail[-1].removeprefix("stderr: ").strip("' ") if detail else str(exc)) from exc
    except OSError as exc:
        raise _GitUnavailable(str(exc)) from exc


def _walk(root: Path, found: Discovery) -> list[Candidate]:
    out: list[Candidate] = []
    # (folder prefix, its .gitignore) pairs from the root down to the current folder
    stack: list[tuple[str, list[tuple[str, GitIgnoreSpec]]]] = [("", [])]
    while stack:
        rel_dir, specs = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else str(root)
        try:
            entries = list(os.scandir(abs_dir))
        except OSError as exc:
            found.warnings.append(f"{rel_dir or '.'}: cannot list folder ({exc.strerror or exc})")
            found.skipped["unreadable"] += 1
            continue
        own = _read_ignore(abs_dir, found)
        if own is not None:
            specs = [*specs, (rel_dir, own)]
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    found.skipped["symlink"] += 1
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                found.skipped["unreadable"] += 1
                continue
            if is_dir:
                if entry.name in (".git", ".engram") or _ignored(specs, rel + "/"):
                    continue
                stack.append((rel, specs))
                continue
            if _ignored(specs, rel):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                found.skipped["vanished"] += 1
                continue
            if not stat.S_ISREG(st.st_mode):
                found.skipped["special"] += 1
                continue
            out.append(Candidate(rel, None, st.st_size, st.st_mtime_ns))
    out.sort(key=lambda c: c.path)
    return out


def _read_ignore(abs_dir: str, found: Discovery) -> GitIgnoreSpec | None:
    path = os.path.join(abs_dir, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return GitIgnoreSpec.from_lines(fh.read().splitlines())
    except FileNotFoundError:
        return None
    except OSError as exc:
        found.warnings.append(f"{path}: cannot read ({exc.strerror or exc})")
        return None


def _ignored(specs: list[tuple[str, GitIgnoreSpec]], rel: str) -> bool:
    for prefix, spec in specs:
        sub = rel[len(prefix) + 1:] if prefix else rel
        if spec.match_file(sub):
            return True
    return False
