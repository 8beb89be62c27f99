"""Git for the agent, only on request: ``--branch NAME`` works on a branch, ``--commit``
commits a finished task. Without them Engram never touches the user's index or branches."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.prompts import render

_SUBJECT_CHARS = 72


class GitError(Exception):
    """A git operation that could not be done; the message says why."""


def _git(root: Path, *args: str, check: bool = True,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise GitError(f"git {args[0]}: {detail[-1] if detail else 'failed'}")
    return proc


def current_branch(root: Path) -> str | None:
    proc = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return proc.stdout.strip() or None


def prepare_branch(root: Path, name: str) -> str:
    """Switch to branch ``name``, creating it from HEAD (uncommitted changes come along)."""
    if _git(root, "rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        raise GitError(f"{root} is not a git repository; --branch needs one")
    if _git(root, "check-ref-format", "--branch", name, check=False).returncode != 0:
        raise GitError(f"{name!r} is not a valid branch name")
    if current_branch(root) == name:
        return name
    exists = _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}", check=False)
    if exists.returncode == 0:
        _git(root, "switch", "--quiet", name)
    else:
        _git(root, "switch", "--quiet", "-c", name)
    return name


def commit_message(state: Mapping[str, Any]) -> str:
    task = " ".join(str(state.get("task", "")).split())
    subject = task if len(task) <= _SUBJECT_CHARS else task[: _SUBJECT_CHARS - 3] + "..."
    plan = str(state.get("plan", "")).strip()
    return render("commit_message", subject=subject or "Engram edits", body=plan or task,
                  files=state.get("files_changed", []), tests=state.get("tests", "not_run"),
                  session_id=state.get("session_id", "")) + "\n"


def commit_task(root: Path, state: Mapping[str, Any]) -> str | None:
    """Commit exactly the files the task changed (other staged work stays staged and out of
    the commit); returns the new commit's SHA, or None when nothing differs from HEAD."""
    files = list(state.get("files_changed", []))
    if not files:
        return None
    untracked = [f for f in files if (root / f).exists() and _git(
        root, "ls-files", "--error-unmatch", "--", f, check=False).returncode != 0]
    if untracked:
        _git(root, "add", "--", *untracked)
    tracked_or_new = [f for f in files if (root / f).exists() or _git(
        root, "ls-files", "--error-unmatch", "--", f, check=False).returncode == 0]
    if not tracked_or_new:
        return None
    if not _git(root, "status", "--porcelain", "--", *tracked_or_new).stdout.strip():
        return None
    _git(root, "commit", "--quiet", "--only", "-F", "-", "--", *tracked_or_new,
         stdin=commit_message(state))
    return _git(root, "rev-parse", "HEAD").stdout.strip()

