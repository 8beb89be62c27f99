"""The index commands, through the real CLI entry point."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tui.cli import main

from .conftest import python_project


@pytest.fixture
def repo(make_repo) -> Path:
    return make_repo(python_project(3))


def run_json(capsys, *argv: str):
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_index_summary(repo: Path, capsys) -> None:
    assert main(["index", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "files" in out and "python 5" in out and "symbols" in out and "tokens" in out
    data = run_json(capsys, "index", str(repo / "app"))  # a subfolder finds the project
    assert data["root"] == str(repo.resolve())
    assert data["files"] == 5 and data["refresh"]["reparsed"] == 0 and data["symbols"] >= 6


def test_map(repo: Path, capsys) -> None:
    assert main(["map", "-C", str(repo), "--tokens", "200"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("core/util.py:\n")
    data = run_json(capsys, "map", "-C", str(repo), "--tokens", "50", "--focus", "app/leaf_1.py")
    assert data["tokens"] <= 50 and data["files"]


def test_pack_to_stdout_and_file(repo: Path, capsys, tmp_path: Path) -> None:
    assert main(["pack", "-C", str(repo), "--tokens", "100000"]) == 0
    assert "## core/util.py" in capsys.readouterr().out
    out_file = tmp_path / "pack.xml"
    data = run_json(capsys, "pack", "-C", str(repo), "-o", str(out_file), "--format", "xml", "-q", "config")
    assert out_file.read_text().startswith("<repository") and data["output"] == str(out_file)
    assert data["files"] == 5 and data["tokens"] <= 128_000
    full = run_json(capsys, "pack", "-C", str(repo), "--tokens", "100000")
    assert full["entries"][0]["content"]
    assert main(["pack", "-C", str(repo), "--format", "yaml"]) == 1
    assert "unknown format" in capsys.readouterr().err


def test_search_and_symbols(repo: Path, capsys) -> None:
    assert main(["search", "load config", "-C", str(repo), "-k", "3"]) == 0
    assert "load_config" in capsys.readouterr().out
    hits = run_json(capsys, "search", "normalizePath", "-C", str(repo))
    assert hits[0]["symbol"] == "normalize_path" and hits[0]["path"] == "core/util.py"
    assert main(["symbols", "ConfigLoader", "-C", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "core/util.py:8" in out and "app/leaf_0.py:5" in out
    info = run_json(capsys, "symbols", "normalize_path", "-C", str(repo))
    assert info["definitions"][0]["path"] == "core/util.py" and len(info["references"]) >= 4
    assert main(["symbols", "NoSuchThing", "-C", str(repo)]) == 1
    assert "no definitions or references" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["index", "{missing}"], ["map", "-C", "{missing}"], ["pack", "-C", "{missing}"],
    ["search", "x", "-C", "{missing}"], ["symbols", "x", "-C", "{missing}"],
])
def test_missing_path_is_one_line(argv: list[str], tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "nope")
    assert main([a.format(missing=missing) for a in argv]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err and err.count("\n") == 1


def test_bare_and_locked_and_empty(tmp_path: Path, repo: Path, capsys) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    assert main(["index", str(bare)]) == 1
    assert "bare git repository" in capsys.readouterr().err

    assert main(["index", str(repo)]) == 0
    capsys.readouterr()
    (repo / "app/leaf_0.py").write_text("def edited():\n    pass\n")
    holder = sqlite3.connect(repo / ".engram" / "index.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        (repo / ".engram" / "config.toml").write_text("[index]\nlock_timeout_s = 0.05\n")
        assert main(["index", str(repo)]) == 1
        assert "locked by another process" in capsys.readouterr().err
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    assert main(["index", str(empty)]) == 0
    assert "nothing to index" in capsys.readouterr().err
