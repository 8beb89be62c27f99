"""Budgets are never exceeded, and the counts reported are the real token counts."""

from __future__ import annotations

import pytest

from indexer import TokenCounter

from .conftest import python_project, sample_sources


@pytest.fixture
def index(make_repo, open_index):
    files = python_project(12)
    files.update({f"langs/{k}": v for k, v in sample_sources().items()})
    files["docs/README.md"] = "# Project\n\nSome words about it.\n" * 20
    files["big/tables.py"] = "".join(f"def table_{i}(row):\n    return row * {i}\n\n" for i in range(300))
    return open_index(make_repo(files))


@pytest.mark.parametrize("budget", [1, 20, 75, 300, 1000, 5000, 100_000])
def test_repo_map_fits_exactly(index, budget: int) -> None:
    m = index.repo_map(budget)
    assert m.tokens <= budget
    assert m.tokens == TokenCounter().count(m.text)
    if budget >= 300:
        assert m.files and m.text.startswith(m.files[0] + ":\n")
        everything = index.repo_map(10**7)
        assert m.tokens > budget * 0.8 or m.text == everything.text  # fills the budget, not just fits


@pytest.mark.parametrize("budget", [1, 50, 400, 2000, 8000, 20_000, 1_000_000])
def test_pack_fits_exactly_in_both_formats(index, budget: int) -> None:
    pack = index.pack(None, budget)
    counter = TokenCounter()
    assert pack.total_tokens == counter.count(pack.to_markdown()) <= budget
    assert pack.xml_tokens == counter.count(pack.to_xml()) <= budget
    for entry in pack.entries:
        assert entry.tokens == counter.count(entry.content)
    if budget >= 2000:
        assert pack.entries


def test_whole_repository_when_it_fits(index) -> None:
    pack = index.pack(None, 1_000_000)
    assert pack.complete and len(pack.entries) == len(index.files())
    assert "def table_299(row):\n    return row * 299" in pack.to_markdown()


def test_outlines_when_it_does_not_fit(index) -> None:
    total = sum(f.tokens for f in index.files())
    pack = index.pack(None, total - 500)
    modes = {e.mode for e in pack.entries}
    assert modes == {"full", "skeleton"}
    assert len(pack.entries) == len(index.files())  # every file at least as an outline
    outline = next(e for e in pack.entries if e.path == "big/tables.py")
    assert outline.mode == "skeleton" and "return row" not in outline.content


def test_pack_renderings(index) -> None:
    pack = index.pack("table", 3000)
    md, xml, data = pack.to_markdown(), pack.to_xml(), pack.to_dict()
    first = pack.entries[0]
    assert f"## {first.path}" in md and f'<file path="{first.path}"' in xml
    assert xml.startswith("<repository") and xml.endswith("</repository>\n")
    assert data["entries"][0]["path"] == first.path and data["total_tokens"] == pack.total_tokens
    assert pack.render("json").startswith("{")


def test_fences_survive_backticks_in_content(make_repo, open_index) -> None:
    text = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    pack = open_index(make_repo({"doc.py": text})).pack(None, 1000)
    assert "````python\n" + text + "````\n" in pack.to_markdown()


def test_edited_file_is_recounted(make_repo, open_index) -> None:
    repo = make_repo({"a.py": "x = 1\n"})
    index = open_index(repo)
    index.refresh()
    (repo / "a.py").write_text("x = 1\n" + "y = 2\n" * 100)  # after the refresh
    pack = index.pack(None, 10_000)
    assert pack.entries[0].tokens == TokenCounter().count(pack.entries[0].content)
    assert pack.total_tokens == TokenCounter().count(pack.to_markdown())
