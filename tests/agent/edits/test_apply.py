from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.edits import (
    ApplyError,
    EditBlock,
    EditSet,
    FileChange,
    PathOutsideRepoError,
    ProtectedPathError,
    SecretFileError,
    StaleFileError,
    SyntaxCheckError,
    apply_edit_set,
    change_for_delete,
    change_for_write,
    resolve_edits,
)
from agent.undo import UndoStore

FILES = {
    "pkg/a.py": "def a():\n    return 1\n",
    "pkg/b.py": "def b():\n    return 2\n",
    "pkg/c.py": "def c():\n    return 3\n",
    "web/app.js": "function f(x) {\n  return x + 1;\n}\n",
}


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*")) if p.is_file() and not {".git", ".engram"} & set(p.parts)}


def _three_changes(repo: Path) -> list[FileChange]:
    res = resolve_edits(repo, [
        EditBlock("pkg/new/d.py", "", "def d():\n    return 4\n"),
        EditBlock("pkg/a.py", "    return 1\n", "    return 10\n"),
        EditBlock("pkg/b.py", "    return 2\n", "    return 20\n"),
    ])
    assert res.ok, res.feedback()
    return res.changes


def test_a_set_applies_with_diff_and_undo_point(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(FILES)
    os.chmod(repo / "pkg/a.py", 0o755)
    undo = UndoStore.open(repo)
    changes = _three_changes(repo) + [change_for_delete(repo, "pkg/c.py")]
    applied = apply_edit_set(repo, EditSet(changes, "fix returns"), undo)
    assert applied.files == ["pkg/new/d.py", "pkg/a.py", "pkg/b.py", "pkg/c.py"]
    assert (repo / "pkg/a.py").read_text() == "def a():\n    return 10\n"
    assert stat.S_IMODE((repo / "pkg/a.py").stat().st_mode) == 0o755  # mode kept
    assert not (repo / "pkg/c.py").exists()
    assert "+++ b/pkg/new/d.py" in applied.diff and "--- a/pkg/c.py\n+++ /dev/null" in applied.diff
    assert applied.undo_point_id and undo.list()[0].label == "before edits: fix returns"
    undo.undo_last()
    assert _snapshot(repo) == {k: v.encode() for k, v in FILES.items()}
    assert not (repo / "pkg/new").exists()


def test_stale_third_file_writes_nothing(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(FILES)
    changes = _three_changes(repo)
    (repo / "pkg/b.py").write_text("def b():\n    return 'changed by the user'\n")
    before = _snapshot(repo)
    with pytest.raises(StaleFileError, match="pkg/b.py: changed on disk"):
        apply_edit_set(repo, EditSet(changes), None)
    assert _snapshot(repo) == before
    assert not (repo / "pkg/new").exists()


def test_file_created_meanwhile_is_stale(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(FILES)
    change = change_for_write(repo, "notes.txt", "hello\n")
    (repo / "notes.txt").write_text("mine\n")
    with pytest.raises(StaleFileError, match="exists now"):
        apply_edit_set(repo, EditSet([change]), None)
    assert (repo / "notes.txt").read_text() == "mine\n"


def test_failing_replace_of_third_file_rolls_back_the_first_two(
        make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(FILES)
    before = _snapshot(repo)
    changes = _three_changes(repo)
    real_replace = os.replace

    def flaky_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith("pkg/b.py") and str(src).endswith(".engram-tmp"):
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(ApplyError, match="no file was changed"):
        apply_edit_set(repo, EditSet(changes), None)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _snapshot(repo) == before  # no temp or backup files left behind either
    assert not (repo / "pkg/new").exists()


@pytest.mark.parametrize(("path", "search", "replace", "line"), [
    ("pkg/a.py", "    return 1\n", "    return (1\n", 2),
    ("web/app.js", "  return x + 1;\n", "  return x + ;\n", 2),
])
def test_syntax_errors_roll_back_the_whole_set(make_repo: Callable[..., Path], path: str,
                                               search: str, replace: str, line: int) -> None:
    repo = make_repo(FILES)
    before = _snapshot(repo)
    res = resolve_edits(repo, [EditBlock("pkg/b.py", "    return 2\n", "    return 22\n"),
                               EditBlock(path, search, replace)])
    with pytest.raises(SyntaxCheckError) as info:
        apply_edit_set(repo, EditSet(res.changes), UndoStore.open(repo))
    problem = info.value.problems[0]
    assert (problem.path, problem.line) == (path, line)
    assert f"{path}:{line}:" in str(info.value)
    assert _snapshot(repo) == before


def test_errors_already_in_a_file_do_not_block_an_edit(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"broken.py": "def f(:\n    pass\n\nx = 1\n"})
    res = resolve_edits(repo, [EditBlock("broken.py", "x = 1\n", "x = 2\n")])
    apply_edit_set(repo, EditSet(res.changes), None)
    assert (repo / "broken.py").read_text().endswith("x = 2\n")


def test_paths_outside_the_repo_are_refused(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    repo = make_repo(FILES)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.py").write_text("safe\n")
    (repo / "link").symlink_to(outside, target_is_directory=True)
    (repo / "victim_link.py").symlink_to(outside / "victim.py")
    for path in ("../escape.py", "pkg/../../escape.py", str(outside / "victim.py"),
                 "link/victim.py", "victim_link.py"):
        with pytest.raises(PathOutsideRepoError):
            apply_edit_set(repo, EditSet([FileChange(path, None, "pwned\n")]), None)
    assert (outside / "victim.py").read_text() == "safe\n"
    assert not (tmp_path / "escape.py").exists()
    with pytest.raises(ProtectedPathError):
        apply_edit_set(repo, EditSet([FileChange(".git/hooks/pre-commit", None, "x\n")]), None)
    # An absolute path inside the repository is fine.
    change = change_for_write(repo, str(repo / "pkg/a.py"), "A = 1\n")
    assert apply_edit_set(repo, EditSet([change]), None).files == ["pkg/a.py"]


def test_secret_files_are_refused_even_through_symlinks(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({**FILES, ".env": "TOKEN=abc\n", "deploy/id_rsa": "KEY\n",
                      "conf/app.cfg": "x\n"})
    (repo / "settings.txt").symlink_to(repo / ".env")
    for path in (".env", "deploy/id_rsa", "settings.txt", "conf/prod.secrets"):
        with pytest.raises(SecretFileError):
            apply_edit_set(repo, EditSet([FileChange(path, None, "x\n")]), None)
    with pytest.raises(SecretFileError):
        change_for_write(repo, "conf/app.cfg", "y\n", secret_patterns=["conf/*.cfg"])
    assert (repo / ".env").read_text() == "TOKEN=abc\n"
