from __future__ import annotations

import os
from pathlib import Path

from agent.memory import MemorySettings, MemoryStore
from agent.memory.instructions import split_rules

AGENTS = """# Project rules

## Testing
- Run `pytest -q` before every commit
- Never mock the database; use the sqlite fixture

## Style
Use ruff. Keep lines under 100 characters.

```bash
make lint
```
"""


def _bump(path: Path, text: str | bytes) -> None:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


def test_split_rules_keeps_headings_and_cuts_long_blocks() -> None:
    rules = split_rules(AGENTS, 4000)
    assert "Project rules > Testing: Run `pytest -q` before every commit" in rules
    assert "Project rules > Style: Use ruff. Keep lines under 100 characters." in rules
    assert any("make lint" in r and r.startswith("Project rules > Style: ```") for r in rules)
    text = "# T\n" + " ".join(f"Sentence {i} is about things." for i in range(400))
    long = split_rules(text, 300)
    assert len(long) > 10 and all(len(r) <= 300 for r in long)


def test_instruction_files_become_pinned_conventions_and_follow_changes(repo: Path) -> None:
    agents = repo / "AGENTS.md"
    _bump(agents, AGENTS)
    (repo / ".engram").mkdir(exist_ok=True)
    _bump(repo / ".engram" / "memory.md", "- The staging host is stage.internal\n")
    with MemoryStore.open(repo) as s:
        report = s.import_instruction_files()
        assert report.added == 5 and not report.skipped
        rules = s.list(kind="convention")
        assert all(e.pinned and e.sources in (("file:AGENTS.md",), ("file:.engram/memory.md",))
                   for e in rules)
        kept = next(e for e in rules if "sqlite fixture" in e.text)
        assert s.import_instruction_files().added == 0  # unchanged: nothing to do
        got = s.recall("should I mock the database in this test?", 500)
        assert got[0].entry.id == kept.id

        _bump(agents, AGENTS.replace("- Run `pytest -q` before every commit\n",
                                     "- Run `tox` before every commit\n"))
        report = s.import_instruction_files()
        assert (report.added, report.removed) == (1, 1)
        texts = {e.text for e in s.list(kind="convention")}
        assert any("tox" in t for t in texts) and not any("pytest -q" in t for t in texts)
        assert s.get(kept.id).text == kept.text  # unchanged rules keep their id

        agents.unlink()
        assert s.import_instruction_files().removed == 4
        assert [e.sources for e in s.list()] == [("file:.engram/memory.md",)]


def test_claude_md_shared_rules_merge_sources_and_bad_files_are_reported(repo: Path) -> None:
    _bump(repo / "AGENTS.md", "- Use uv to manage packages\n")
    _bump(repo / "CLAUDE.md", b"- Use uv to manage packages\n- Caf\xe9 rules apply\n")
    settings = MemorySettings(max_instruction_file_bytes=10_000)
    (repo / ".engram").mkdir(exist_ok=True)
    _bump(repo / ".engram" / "memory.md", "x" * 20_000)
    with MemoryStore.open(repo, settings) as s:
        report = s.import_instruction_files()
        assert any("CLAUDE.md: not valid UTF-8 (byte 0xe9" in m for m in report.skipped)
        assert any("memory.md: 20,000 bytes is over" in m for m in report.skipped)
        uv = [e for e in s.list() if "uv" in e.text]
        assert len(uv) == 1 and uv[0].sources == ("file:AGENTS.md", "file:CLAUDE.md")
        assert any("Caf\ufffd rules" in e.text for e in s.list())
