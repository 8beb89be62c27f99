from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["memory", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_search_list_edit_pin_forget(repo: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(repo / "src")  # the project of the current folder
    code, out, _ = _run(capsys, "add", "Run the tests with pytest -q", "--kind", "command",
                        "--json")
    assert code == 0
    entry = json.loads(out)["entry"]
    assert entry["kind"] == "command" and json.loads(out)["merged"] is False
    code, out, _ = _run(capsys, "add", "run the tests with `pytest -q`", "--kind", "command",
                        "--source", "session:s1", "--json")
    assert json.loads(out)["merged"] is True
    code, out, _ = _run(capsys, "search", "how do I run the tests?", "--json")
    results = json.loads(out)["results"]
    assert results[0]["entry"]["id"] == entry["id"] and "run the" in results[0]["matched"]
    code, out, _ = _run(capsys, "search", "how do I run the tests?")
    assert "matched:" in out and f"#{entry['id']}" in out
    assert _run(capsys, "edit", str(entry["id"]), "Run the tests with tox", "--json")[0] == 0
    assert json.loads(_run(capsys, "pin", str(entry["id"]), "--json")[1])["entry"]["pinned"]
    listed = json.loads(_run(capsys, "list", "--json", "--pinned")[1])["entries"]
    assert [e["text"] for e in listed] == ["Run the tests with tox"]
    code, out, _ = _run(capsys, "forget", str(entry["id"]), "--json")
    assert code == 0 and json.loads(out)["forgotten"][0]["id"] == entry["id"]
    assert json.loads(_run(capsys, "list", "--json")[1])["entries"] == []


def test_other_project_export_import(repo: Path, tmp_path: Path, capsys) -> None:
    assert _run(capsys, "add", "Deploy with make release", "-C", str(repo))[0] == 0
    out_file = tmp_path / "m.jsonl"
    code, out, _ = _run(capsys, "export", str(out_file), "-C", str(repo), "--json")
    assert code == 0 and json.loads(out)["count"] == 1
    other = tmp_path / "other"
    other.mkdir()
    code, out, _ = _run(capsys, "import", str(out_file), "-C", str(other), "--json")
    assert code == 0 and json.loads(out)["added"] == 1
    assert "Deploy with make release" in _run(capsys, "list", "-C", str(other))[1]


def test_bad_input_is_one_line_and_exit_1(repo: Path, tmp_path: Path, capsys) -> None:
    cases = [
        ["add", "   "],
        ["add", "x", "--kind", "gossip"],
        ["forget", "424242"],
        ["list", "-C", str(tmp_path / "missing")],
        ["import", str(tmp_path / "missing.jsonl")],
    ]
    big = tmp_path / "big.txt"
    big.write_text("x" * (10 << 20))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"caf\xe9\n")
    cases += [["add", "--file", str(big)], ["add", "--file", str(binary)]]
    for args in cases:
        full = args if "-C" in args else [*args, "-C", str(repo)]
        code, _, err = _run(capsys, *full)
        assert code == 1, args
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


def test_corrupt_database_warning_and_newer_schema_error(repo: Path) -> None:
    (repo / ".engram").mkdir(exist_ok=True)
    (repo / ".engram" / "memory.sqlite").write_bytes(b"\x00garbage" * 1000)
    run = [sys.executable, "-m", "tui.cli", "memory", "list", "-C", str(repo)]
    proc = subprocess.run(run, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "warning:" in proc.stderr and "moved it aside" in proc.stderr
    import sqlite3
    conn = sqlite3.connect(repo / ".engram" / "memory.sqlite")
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    proc = subprocess.run(run, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "schema version 7" in proc.stderr
    assert "Traceback" not in proc.stderr
