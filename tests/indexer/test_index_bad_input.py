"""Bad input: each case gets a clear message or a warning, and the rest of the index is right."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from indexer import (
    CacheLockedError,
    Index,
    IndexerError,
    IndexSettings,
    NotAWorkTreeError,
)
from indexer import discover as discover_mod
from indexer import parse as parse_mod
from indexer import refresh as refresh_mod

GOOD = "def good_function():\n    return 1\n"


def test_non_git_folder_honours_gitignore(tmp_path: Path, open_index) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.py").write_text(GOOD)
    (tmp_path / "src/generated.py").write_text("def ignored_function():\n    pass\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build/out.py").write_text("def built():\n    pass\n")
    (tmp_path / "node_modules/lib").mkdir(parents=True)
    (tmp_path / "node_modules/lib/index.js").write_text("function vendored() {}\n")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "src/.gitignore").write_text("generated.py\n")
    index = open_index(tmp_path)
    index.refresh()
    assert sorted(f.path for f in index.files()) == [".gitignore", "src/.gitignore", "src/main.py"]
    assert not (tmp_path / ".git").exists()
    (tmp_path / "src/main.py").write_text(GOOD + "\ndef added_later():\n    pass\n")
    assert index.refresh().reparsed == 1
    assert index.symbols("added_later").definitions


def test_empty_repository(tmp_path: Path, open_index) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    index = open_index(tmp_path)
    stats = index.refresh()
    assert stats.files == 0 and index.files() == []
    assert index.repo_map(1000).text == ""
    assert index.pack("anything", 1000).entries == []
    assert index.search("anything") == []
    assert index.symbols("x").definitions == []


def test_bare_repository_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(NotAWorkTreeError, match="bare git repository"):
        Index.open(bare)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(IndexerError, match="does not exist"):
        Index.open(tmp_path / "nope")


def test_binary_non_utf8_oversized_and_generated_files(make_repo, open_index) -> None:
    repo = make_repo({
        "ok.py": GOOD,
        "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)),
        "latin.py": "# caf\xe9\ndef latin_function():\n    pass\n".encode("latin-1"),
        "huge.py": "x = 1\n" * 5000,
        "package-lock.json": '{"lockfileVersion": 3}\n',
        "web/app.min.js": "var a=1;" * 10,
        "web/bundle.js": "var a=1;" * 2000,  # minified content, innocent name
        "node_modules/dep/index.js": "function dep() {}\n",
    })
    index = open_index(repo, max_file_bytes=20_000)
    stats = index.refresh()
    assert sorted(f.path for f in index.files()) == ["latin.py", "ok.py"]
    assert stats.skipped == {"binary": 1, "generated": 3, "too-large": 1, "vendored": 1}
    assert any("latin.py" in w and "UTF-8" in w for w in stats.warnings)
    assert index.symbols("latin_function").definitions[0].path == "latin.py"
    assert "\ufffd" in index.pack(None, 10_000).to_markdown()
    assert index.refresh().reparsed == 0  # skip decisions are cached too


def test_syntax_errors_keep_what_parses(make_repo, open_index) -> None:
    repo = make_repo({
        "broken.py": "def fine_before():\n    return 1\n\ndef broken(:\n    pass\n\nclass AfterBreak:\n    pass\n",
        "broken.js": "function okJs() { return 1 }\nfunction ( {\n",
        "ok.py": GOOD,
    })
    index = open_index(repo)
    index.refresh()
    assert index.symbols("fine_before").definitions
    assert index.symbols("AfterBreak").definitions
    assert index.symbols("okJs").definitions
    assert index.symbols("good_function").definitions


def test_symlink_loops_and_links_are_skipped(tmp_path: Path, make_repo, open_index) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def outside_secret():\n    pass\n")
    repo = make_repo({"ok.py": GOOD})
    os.symlink(".", repo / "loop")
    os.symlink("a_link", repo / "b_link")
    os.symlink("b_link", repo / "a_link")
    os.symlink(outside, repo / "escape.py")
    index = open_index(repo)
    stats = index.refresh()
    assert [f.path for f in index.files()] == ["ok.py"]
    assert stats.skipped["symlink"] >= 3
    assert not index.symbols("outside_secret").definitions
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.py").write_text(GOOD)
    os.symlink(".", plain / "loop")
    os.symlink(outside, plain / "escape.py")
    walk = open_index(plain)
    walk.refresh()
    assert [f.path for f in walk.files()] == ["m.py"]


def test_files_vanishing_or_changing_during_indexing(make_repo, open_index, monkeypatch) -> None:
    repo = make_repo({"stays.py": GOOD, "goes.py": "def doomed():\n    pass\n",
                      "shifts.py": "def before_edit():\n    pass\n"})
    real = refresh_mod.discover

    def discover_then_disturb(*args, **kwargs):
        found = real(*args, **kwargs)
        (repo / "goes.py").unlink()
        (repo / "shifts.py").write_text("def after_edit():\n    pass\n")
        return found

    monkeypatch.setattr(refresh_mod, "discover", discover_then_disturb)
    index = open_index(repo)
    stats = index.refresh()
    assert sorted(f.path for f in index.files()) == ["shifts.py", "stays.py"]
    assert any("goes.py" in w and "vanished" in w for w in stats.warnings)
    assert index.symbols("after_edit").definitions and not index.symbols("before_edit").definitions
    monkeypatch.setattr(refresh_mod, "discover", real)
    again = index.refresh()
    assert again.reparsed == 0 and again.removed == 0  # the content read is what was cached


def test_permission_errors(make_repo, open_index, monkeypatch, tmp_path: Path) -> None:
    repo = make_repo({"ok.py": GOOD, "locked.py": "def hidden():\n    pass\n"})
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(parse_mod, "open", guarded_open, raising=False)
    index = open_index(repo)
    stats = index.refresh()
    assert [f.path for f in index.files()] == ["ok.py"]
    assert stats.skipped["unreadable"] == 1
    assert any("locked.py" in w and "Permission denied" in w for w in stats.warnings)

    plain = tmp_path / "plain"
    (plain / "sub").mkdir(parents=True)
    (plain / "m.py").write_text(GOOD)
    real_scandir = os.scandir

    def guarded_scandir(path):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover_mod.os, "scandir", guarded_scandir)
    walk = open_index(plain)
    wstats = walk.refresh()
    assert [f.path for f in walk.files()] == ["m.py"]
    assert any("sub" in w and "cannot list" in w for w in wstats.warnings)


def test_corrupt_cache_is_moved_aside_and_rebuilt(make_repo) -> None:
    repo = make_repo({"ok.py": GOOD})
    cache = repo / ".engram" / "index.sqlite"
    cache.parent.mkdir()
    cache.write_bytes(b"this is not a database" * 100)
    with Index.open(repo) as index:
        assert any("moved it to" in w for w in index.warnings)
        assert index.refresh().files == 1
        assert index.symbols("good_function").definitions
    assert list(cache.parent.glob("index.sqlite.corrupt-*"))


def test_locked_cache_is_a_clear_error(make_repo) -> None:
    repo = make_repo({"ok.py": GOOD})
    with Index.open(repo) as index:
        index.refresh()
    holder = sqlite3.connect(repo / ".engram" / "index.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        (repo / "ok.py").write_text(GOOD + "\ndef more():\n    pass\n")
        with Index.open(repo, IndexSettings(lock_timeout_s=0.05)) as index:
            with pytest.raises(CacheLockedError, match="locked by another process"):
                index.refresh()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Index.open(repo) as index:
        index.refresh()
        assert index.symbols("more").definitions  # nothing half-written, nothing lost


def test_a_cache_set_up_by_another_process_while_we_waited_is_kept(tmp_path: Path) -> None:
    import threading

    from indexer.cache import IndexCache

    path = tmp_path / "index.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # the other process is setting the cache up (and indexing into it) inside its transaction
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE blobs (sha TEXT PRIMARY KEY, skip TEXT, payload BLOB)")
    other.execute("CREATE TABLE files (path TEXT PRIMARY KEY, sha TEXT NOT NULL,"
                  " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL)")
    other.execute("INSERT INTO files VALUES ('a.py', 'abc', 1, 1)")
    other.execute("INSERT INTO meta VALUES ('cache_key', 'k1')")
    opened: list[IndexCache] = []
    waiter = threading.Thread(target=lambda: opened.append(IndexCache(path, key="k1")))
    waiter.start()
    waiter.join(0.5)  # it saw no key yet and now waits for the write lock
    other.execute("COMMIT")
    waiter.join(10)
    other.close()
    assert opened, "the second opener failed"
    rows = opened[0]._conn.execute("SELECT path FROM files").fetchall()
    opened[0].close()
    assert rows == [("a.py",)]  # not dropped and recreated empty


def test_opening_a_new_cache_waits_for_another_opener_setting_it_up(tmp_path: Path) -> None:
    import threading

    from indexer.cache import IndexCache

    path = tmp_path / "index.sqlite"
    # another opener (a second engram, or a second worker of the app) is mid-way through
    # creating the cache: SQLite refuses the switch to WAL at once, with no busy wait
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE scratch (x)")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        cache = IndexCache(path, key="k1")
    finally:
        release.join()
        other.close()
    assert cache._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cache.close()


def test_unknown_tokenizer_is_a_clear_error(make_repo) -> None:
    with pytest.raises(IndexerError, match="unknown tokenizer encoding"):
        Index.open(make_repo({"a.py": GOOD}), IndexSettings(encoding="nope"))
