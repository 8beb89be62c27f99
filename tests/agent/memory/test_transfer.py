from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.memory import MemoryInputError, MemoryStore


def test_export_import_round_trip(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "memory.jsonl"
    with MemoryStore.open(repo) as s:
        a = s.remember("Build with make all", "command", source="commit:abc", confidence=0.7)
        s.remember("Never commit secrets", "convention", pinned=True)
        s.recall("build with make", 100)
        assert s.export_jsonl(out) == 2
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["text"] == "Build with make all" and lines[0]["use_count"] == 1
    other = tmp_path / "other"
    other.mkdir()
    with MemoryStore.open(other) as s:
        report = s.import_jsonl(out)
        assert (report.added, report.merged, report.skipped) == (2, 0, [])
        got = {e.text: e for e in s.list()}
        b = got["Build with make all"]
        assert (b.sources, b.confidence, b.use_count, b.created_at) == (
            ("commit:abc",), 0.7, 1, a.created_at)
        assert got["Never commit secrets"].pinned
        assert s.import_jsonl(out).merged == 2  # importing again adds nothing


def test_bad_lines_are_reported_not_fatal(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps({"text": "Good entry one", "kind": "fact"}).encode(),
        b'{"text": "caf\xe9", "kind": "fact"}',
        b"not json",
        json.dumps({"text": "", "kind": "fact"}).encode(),
        json.dumps({"text": "wrong kind", "kind": "rumour"}).encode(),
        json.dumps({"text": "x" * (10 << 20)}).encode(),
        json.dumps({"text": "Good entry two", "kind": "fix", "sources": ["session:s"]}).encode(),
    ]))
    with MemoryStore.open(repo) as s:
        report = s.import_jsonl(path)
        assert report.added == 2
        assert [m.split(":")[0] for m in report.skipped] == [
            "line 2", "line 3", "line 4", "line 5", "line 6"]
        assert "not valid UTF-8" in report.skipped[0] and "at most" in report.skipped[4]
        with pytest.raises(MemoryInputError, match="no such file"):
            s.import_jsonl(tmp_path / "missing.jsonl")
        with pytest.raises(MemoryInputError, match="does not exist"):
            s.export_jsonl(tmp_path / "no" / "dir.jsonl")
