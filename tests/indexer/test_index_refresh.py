"""Incremental refresh: only what changed is parsed; the cache survives reopening."""

from __future__ import annotations

import os

from indexer import Index, IndexSettings
from indexer import refresh as refresh_mod

from ..conftest import git
from .conftest import python_project


def test_cold_then_incremental(make_repo, open_index) -> None:
    repo = make_repo(python_project(4))
    index = open_index(repo)
    cold = index.refresh()
    assert (cold.files, cold.added, cold.reparsed) == (6, 6, 6)

    again = index.refresh()
    assert (again.reparsed, again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 0, 6)

    (repo / "app/leaf_1.py").write_text("def renamed_handler():\n    return 1\n")
    one = index.refresh()
    assert (one.reparsed, one.changed, one.added, one.removed) == (1, 1, 0, 0)
    assert [d.path for d in index.symbols("renamed_handler").definitions] == ["app/leaf_1.py"]
    assert index.symbols("handler_1").definitions == []

    (repo / "app/new_mod.py").write_text("def fresh():\n    pass\n")  # untracked
    (repo / "app/leaf_2.py").unlink()
    changed = index.refresh()
    assert (changed.added, changed.removed, changed.reparsed) == (1, 1, 1)
    assert {f.path for f in index.files()} == {
        "core/__init__.py", "core/util.py", "app/leaf_0.py", "app/leaf_1.py", "app/leaf_3.py", "app/new_mod.py"
    }


def test_reopen_reuses_the_cache(make_repo, open_index) -> None:
    repo = make_repo(python_project(3))
    first = open_index(repo)
    first.refresh()
    first.close()
    second = open_index(repo)
    stats = second.refresh()
    assert stats.reparsed == 0 and stats.unchanged == 5
    assert second.symbols("normalize_path").definitions[0].path == "core/util.py"
    assert (repo / ".engram" / "index.sqlite").is_file()


def test_same_content_elsewhere_is_not_reparsed(make_repo, open_index) -> None:
    repo = make_repo({"a/x.py": "def shared():\n    return 1\n"})
    index = open_index(repo)
    index.refresh()
    git(repo, "mv", "a/x.py", "a/y.py")
    stats = index.refresh()
    assert (stats.added, stats.removed, stats.reparsed) == (1, 1, 0)
    assert index.symbols("shared").definitions[0].path == "a/y.py"


def test_touched_but_unchanged_file_is_not_reparsed(make_repo, open_index) -> None:
    repo = make_repo(python_project(2))
    index = open_index(repo)
    index.refresh()
    path = repo / "core/util.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    stats = index.refresh()
    assert stats.reparsed == 0 and stats.changed == 0


def test_staged_and_unstaged_edits_are_seen(make_repo, open_index) -> None:
    repo = make_repo({"m.py": "def one():\n    pass\n"})
    index = open_index(repo)
    index.refresh()
    (repo / "m.py").write_text("def two():\n    pass\n")
    git(repo, "add", "m.py")
    index.refresh()
    assert index.symbols("two").definitions and not index.symbols("one").definitions
    (repo / "m.py").write_text("def three():\n    pass\n")  # unstaged on top
    index.refresh()
    assert index.symbols("three").definitions and not index.symbols("two").definitions


def test_process_pool_gives_the_same_index(make_repo, open_index, monkeypatch) -> None:
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return g{i % 3}(x)\n\ndef g{i % 3}(y):\n    return y\n"
             for i in range(refresh_mod.POOL_MIN_FILES + 4)}
    repo = make_repo(files)
    pooled = open_index(repo, workers=2)
    stats = pooled.refresh()
    assert stats.reparsed == len(files)
    pooled_view = [(f.path, f.tokens, f.symbols) for f in pooled.files()]
    pooled.close()
    (repo / ".engram" / "index.sqlite").unlink()
    serial = Index.open(repo, IndexSettings(workers=1))
    serial.refresh()
    assert [(f.path, f.tokens, f.symbols) for f in serial.files()] == pooled_view
    serial.close()


def test_progress_reports_parsed_files(make_repo, open_index) -> None:
    repo = make_repo(python_project(3))
    seen: list[tuple[int, int]] = []
    open_index(repo).refresh(progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_changing_the_tokenizer_rebuilds(make_repo) -> None:
    repo = make_repo(python_project(1))
    with Index.open(repo) as a:
        a.refresh()
        tokens_o200k = {f.path: f.tokens for f in a.files()}
    with Index.open(repo, IndexSettings(encoding="cl100k_base")) as b:
        assert b.refresh().reparsed == 3
        assert {f.path: f.tokens for f in b.files()}.keys() == tokens_o200k.keys()
