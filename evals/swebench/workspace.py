"""Fresh working copies of an instance's repository at its base commit, and the diff out.

Repositories come from ``--repos-dir`` (git repositories, bare or not, named ``owner__name``)
or, without one, from a clone of GitHub kept in a cache.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from evals.swebench.dataset import Instance

GIT_IDENTITY = ("-c", "user.name=engram-eval", "-c", "user.email=eval@engram.invalid",
                "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null")

ARTIFACT_EXCLUDES = tuple(f":(exclude,glob){g}" for g in (
    "**/__pycache__/**", "**/*.pyc", "**/.pytest_cache/**", "**/*.egg-info/**", ".engram/**"))
"""What test runs and installs leave behind; never part of a prediction."""


class WorkspaceError(Exception):
    """The repository or commit is not available, or git failed; the message says which."""


def git(cwd: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run git with a fixed identity; ``WorkspaceError`` with git's last line on failure."""
    try:
        proc = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise WorkspaceError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot run git: {exc.strerror}") from None
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise WorkspaceError(f"git {args[0]} failed: {last}")
    return proc


def repository_source(inst: Instance, repos_dir: Path | None, clone_cache: Path) -> Path:
    """The local git repository holding ``inst.repo`` (cloned into ``clone_cache`` when no
    ``repos_dir`` is given)."""
    if repos_dir is not None:
        source = repos_dir / inst.repo_dir_name
        if not source.is_dir():
            raise WorkspaceError(f"repository {inst.repo} not found: expected {source} "
                                 f"(a git repository, bare or not)")
        if git(source, "rev-parse", "--git-dir", check=False).returncode != 0:
            raise WorkspaceError(f"{source} is not a git repository")
        return source
    return _cached_clone(inst.repo, clone_cache)


def _cached_clone(repo: str, cache: Path) -> Path:
    target = cache / repo.replace("/", "__")
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one clone per repository, across workers
        if (target / "HEAD").exists():
            return target
        partial = cache / f".{target.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        url = f"https://github.com/{repo}.git"
        try:
            git(cache, "clone", "--quiet", "--bare", url, str(partial), timeout=3600)
        except WorkspaceError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise WorkspaceError(f"cannot clone {url} ({exc}); pass --repos-dir with a local "
                                 f"copy named {target.name}") from None
        partial.rename(target)
        return target


def checkout(inst: Instance, source: Path, target: Path) -> Path:
    """A fresh clone of ``source`` at ``target`` with ``inst.base_commit`` checked out."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if git(source, "cat-file", "-e", f"{inst.base_commit}^{{commit}}", check=False).returncode:
        raise WorkspaceError(f"commit {inst.base_commit} of {inst.repo} is not in {source}")
    # --shared borrows the source's objects, so even a commit no branch points at is there
    git(target.parent, "clone", "--quiet", "--shared", "--no-checkout", str(source), str(target))
    git(target, "checkout", "--quiet", "--detach", inst.base_commit)
    return target


def diff_against(workspace: Path, base_commit: str) -> str:
    """Every change in ``workspace`` since ``base_commit`` (new files included; ignored files,
    ``.engram/`` and build artifacts left out) as a unified diff."""
    git(workspace, "add", "--all")
    diff = git(workspace, "diff", "--cached", "--no-color", "--no-ext-diff", base_commit,
               "--", ".", *ARTIFACT_EXCLUDES).stdout
    git(workspace, "reset", "--quiet")
    return diff


def apply_patch(workspace: Path, patch: str, patch_file: Path) -> str | None:
    """Apply ``patch`` like the official harness (``git apply``, then ``patch --fuzz``);
    None when it applied, else why not (one line)."""
    patch_file.write_text(patch if patch.endswith("\n") else patch + "\n", encoding="utf-8")
    first = git(workspace, "apply", "--verbose", str(patch_file), check=False)
    if first.returncode == 0:
        return None
    if shutil.which("patch"):
        second = subprocess.run(["patch", "--batch", "--fuzz=5", "-p1", "-i", str(patch_file)],
                                cwd=workspace, capture_output=True, text=True, check=False)
        if second.returncode == 0:
            return None
        git(workspace, "checkout", "--quiet", "--", ".", check=False)  # undo a partial apply
        git(workspace, "clean", "-fdq", check=False)
    errors = [ln for ln in first.stderr.splitlines() if ln.startswith("error:")]
    return (errors[0] if errors else (first.stderr.strip().splitlines() or ["git apply failed"])[-1])[:300]
