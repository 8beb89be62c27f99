"""Fixtures shared by every test package: isolated user dirs and small git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG dirs at a temp folder so no test reads or writes the real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for var in [v for v in __import__("os").environ if v.startswith("ENGRAM_")]:
        monkeypatch.delenv(var, raising=False)
    return home


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; return stdout."""
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )
    return proc.stdout


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Build a git repository from ``{relative path: text}`` and commit it."""

    def build(files: dict[str, str | bytes], *, name: str = "repo", commit: bool = True) -> Path:
        repo = tmp_path / name
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q")
        for rel, content in files.items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        if commit and files:
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", "initial")
        return repo

    return build
