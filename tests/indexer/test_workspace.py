from __future__ import annotations

from pathlib import Path

import pytest

from indexer.workspace import WorkspaceError, find_project_root, state_dir


def test_state_dir_is_excluded_from_git_once(make_repo) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    d = state_dir(repo)
    assert d == repo / ".engram" and d.is_dir()
    state_dir(repo)
    (d / "junk").write_text("x")
    exclude = (repo / ".git" / "info" / "exclude").read_text()
    assert exclude.count(".engram/") == 1
    import subprocess
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert ".engram" not in status


def test_project_root_from_subfolder(make_repo) -> None:
    repo = make_repo({"pkg/mod.py": "x = 1\n"})
    assert find_project_root(repo / "pkg") == repo.resolve()


def test_missing_path_is_clear(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        find_project_root(tmp_path / "nope")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(WorkspaceError, match="not a folder"):
        find_project_root(f)


def test_non_git_folder_has_no_exclude(tmp_path: Path) -> None:
    d = state_dir(tmp_path)
    assert d.is_dir()
    assert not (tmp_path / ".git").exists()
