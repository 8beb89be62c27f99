from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.undo import UndoPointNotFoundError, UndoStore
from tui.cli import main

FILES: dict[str, str | bytes] = {
    ".gitignore": "build/\n*.log\n",
    "src/app.py": "print('hello')\n",
    "src/data.bin": bytes(range(256)),
    "scripts/run.sh": "#!/bin/sh\necho run\n",
    "docs/windows.txt": "line one\r\nline two\r\n",
    "private.cfg": "owner only\n",
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@e", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


def _state(root: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every non-ignored entry under ``root``: kind, content (or link target) and mode."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".engram", "build")]
        for name in filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path).encode(), 0)
            else:
                out[rel] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


def _prepare(repo: Path) -> None:
    os.chmod(repo / "scripts/run.sh", 0o755)
    os.chmod(repo / "private.cfg", 0o600)
    (repo / "src/current.py").symlink_to("app.py")


def _act_like_the_agent(repo: Path, store: UndoStore) -> None:
    """An edit set, then a command that changes things, each after a snapshot."""
    store.snapshot("before edits: rewrite app")
    (repo / "src/app.py").write_text("print('bye')\n")
    (repo / "src/new_module.py").write_text("X = 1\n")
    (repo / "docs/windows.txt").unlink()
    store.snapshot("before command: make")
    command = ("chmod 644 scripts/run.sh && chmod 644 private.cfg && "
               "printf '\\000\\001' > src/data.bin && rm -f src/current.py && "
               "mkdir -p gen/out && echo made > gen/out/made.txt && "
               "mkdir -p build && echo artefact > build/keep.o")
    subprocess.run(["sh", "-c", command], cwd=repo, check=True)


def test_undo_restores_edited_created_deleted_and_command_changed_files_exactly(
        make_repo: Callable[..., Path]) -> None:
    repo = make_repo(FILES)
    _prepare(repo)
    original = _state(repo)
    store = UndoStore.open(repo)
    _act_like_the_agent(repo, store)

    first = store.undo_last()  # undoes the command only
    assert first is not None and first.point.label == "before command: make"
    assert {c.path: c.status for c in first.changes} == {
        "gen/out/made.txt": "deleted", "private.cfg": "mode", "scripts/run.sh": "mode",
        "src/current.py": "added", "src/data.bin": "modified"}
    after_edits_state = _state(repo)
    assert after_edits_state["src/app.py"][1] == b"print('bye')\n"
    assert after_edits_state["src/data.bin"] == original["src/data.bin"]

    second = UndoStore.open(repo).undo_last()  # a fresh store: points persist on disk
    assert second is not None and second.point.label == "before edits: rewrite app"
    assert _state(repo) == original
    assert not (repo / "gen").exists()  # folders emptied by the undo are removed
    assert (repo / "build/keep.o").read_text() == "artefact\n"  # ignored files are left alone
    assert UndoStore.open(repo).undo_last() is None


def test_undo_leaves_the_users_git_state_untouched(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(FILES)
    _git(repo, "branch", "feature")
    (repo / "src/app.py").write_text("print('stashed')\n")
    _git(repo, "stash")
    (repo / "src/app.py").write_text("print('staged')\n")
    _git(repo, "add", "src/app.py")
    (repo / "src/app.py").write_text("print('staged, then edited')\n")
    (repo / "untracked.txt").write_text("mine\n")

    def git_state() -> tuple[str, ...]:
        return (_git(repo, "status", "--porcelain"), _git(repo, "rev-parse", "HEAD"),
                _git(repo, "stash", "list"), _git(repo, "branch", "-a"),
                _git(repo, "diff", "--cached"), _git(repo, "log", "--all", "--oneline"))

    before = git_state()
    index_bytes = (repo / ".git/index").read_bytes()
    store = UndoStore.open(repo)
    _act_like_the_agent(repo, store)
    store.undo_last()
    store.undo_last()
    assert (repo / ".git/index").read_bytes() == index_bytes
    assert git_state() == before
    assert (repo / "src/app.py").read_text() == "print('staged, then edited')\n"


def test_undo_works_in_a_folder_that_is_not_a_git_repository(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "sub").mkdir(parents=True)
    (root / "sub/a.txt").write_text("a\n")
    store = UndoStore.open(root)
    point = store.snapshot("before edits")
    (root / "sub/a.txt").write_text("changed\n")
    (root / "b.txt").write_text("new\n")
    result = store.restore(point.id[:8])
    assert {c.path: c.status for c in result.changes} == {"sub/a.txt": "modified",
                                                          "b.txt": "deleted"}
    assert (root / "sub/a.txt").read_text() == "a\n" and not (root / "b.txt").exists()
    assert not (root / ".git").exists()
    # The files replaced by the restore were saved and can be brought back.
    store.restore(result.saved_state)
    assert (root / "sub/a.txt").read_text() == "changed\n" and (root / "b.txt").exists()


def test_points_step_back_one_at_a_time_and_unchanged_snapshots_are_merged(
        make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"a.txt": "0\n"})
    store = UndoStore.open(repo)
    ids = []
    for n in range(1, 4):
        ids.append(store.snapshot(f"step {n}").id)
        (repo / "a.txt").write_text(f"{n}\n")
    assert store.snapshot("nothing changed since step 3").id != ids[-1]
    again = store.snapshot("still nothing")
    assert again.id == store.list()[0].id
    listed = store.list()
    assert [p.label for p in listed] == ["nothing changed since step 3", "step 3", "step 2",
                                         "step 1"]
    assert listed[1].files_changed == ("a.txt",)
    store.restore(ids[1])  # back to before step 2; step 2 and newer leave the chain
    assert (repo / "a.txt").read_text() == "1\n"
    assert [p.label for p in store.list()] == ["step 1"]
    with pytest.raises(UndoPointNotFoundError):
        store.restore("deadbeef")


def test_engram_undo_cli(make_repo: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    assert main(["undo", "-C", str(repo)]) == 0
    assert "nothing to undo" in capsys.readouterr().out
    assert not (repo / ".engram").exists()  # asking creates no state

    store = UndoStore.open(repo)
    point = store.snapshot("before edits: set x")
    (repo / "a.py").write_text("x = 2\ny = 3\n")
    (repo / "b.py").write_text("new\n")

    assert main(["undo", "--list", "--json", "-C", str(repo)]) == 0
    listed = json.loads(capsys.readouterr().out)["points"]
    assert [(p["id"], p["label"], sorted(p["files_changed"])) for p in listed] == [
        (point.id, "before edits: set x", ["a.py", "b.py"])]

    assert main(["undo", "-C", str(repo)]) == 0
    out = capsys.readouterr().out
    assert f"restored undo point {point.id}" in out
    assert "M a.py" in out and "+1 -2" in out and "D b.py" in out
    assert (repo / "a.py").read_text() == "x = 1\n" and not (repo / "b.py").exists()

    assert main(["undo", "--json", "-C", str(repo)]) == 0
    assert json.loads(capsys.readouterr().out)["restored"] is None

    assert main(["undo", "nothere", "-C", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "no undo point" in err and "Traceback" not in err


def test_undo_last_skips_points_that_match_the_files_now(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"a.txt": "0\n"})
    store = UndoStore.open(repo)
    store.snapshot("before edits")
    (repo / "a.txt").write_text("1\n")
    store.snapshot("before a command that changes nothing")
    result = store.undo_last()
    assert result is not None and result.point.label == "before edits"
    assert (repo / "a.txt").read_text() == "0\n"
    assert store.undo_last() is None
