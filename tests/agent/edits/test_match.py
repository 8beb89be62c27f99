from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.edits import EditBlock, resolve_edits
from agent.edits.match import Replaced, Unmatched, replace_in_text

SOURCE = """import os


class Store:
    def load(self, path):
        with open(path) as fh:
            data = fh.read()
        return data.strip()

    def save(self, path, data):
        with open(path, "w") as fh:
            fh.write(data)
"""


def test_exact_match_replaces_only_that_place() -> None:
    out = replace_in_text(SOURCE, "        return data.strip()\n", "        return data\n")
    assert isinstance(out, Replaced) and out.method == "exact"
    assert out.text == SOURCE.replace("return data.strip()", "return data")
    assert out.start_line == 8


def test_whitespace_insensitive_match_reapplies_the_files_indentation() -> None:
    search = "def load(self, path):\n    with open(path) as fh:\n        data = fh.read()\n"
    replace = ("def load(self, path):\n    with open(path, encoding='utf-8') as fh:\n"
               "        data = fh.read()\n")
    out = replace_in_text(SOURCE, search, replace)
    assert isinstance(out, Replaced) and out.method == "whitespace"
    assert "        with open(path, encoding='utf-8') as fh:\n            data = fh.read()\n" in out.text
    assert out.text.count("def load") == 1


def test_unique_fuzzy_match_applies_and_is_reported_with_a_diff(
        make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"store.py": SOURCE})
    typo = EditBlock("store.py",
                     "    def save(self, path, data):\n        with open(path, 'w') as fh:\n"
                     "            fh.write(data)\n",
                     "    def save(self, path, data):\n        Path(path).write_text(data)\n")
    res = resolve_edits(repo, [typo])
    assert res.ok, res.feedback()
    assert res.changes[0].after.endswith("    def save(self, path, data):\n"
                                         "        Path(path).write_text(data)\n")
    (note,) = res.notes
    assert note.method == "fuzzy" and note.start_line == 10
    assert "-        with open(path, 'w') as fh:" in note.diff
    assert '+        with open(path, "w") as fh:' in note.diff


def test_no_match_gives_the_closest_candidates_with_line_numbers() -> None:
    out = replace_in_text(SOURCE, "def load(self, filename, mode):\n    pass\n", "x\n")
    assert isinstance(out, Unmatched)
    assert "matches no lines" in out.reason
    best = out.candidates[0]
    assert best.start_line == 5 and "def load(self, path):" in best.text
    assert "    5 |     def load(self, path):" in str(best)


def test_several_exact_matches_are_ambiguous() -> None:
    text = "a = 1\nb = 2\n\na = 1\nc = 3\n"
    out = replace_in_text(text, "a = 1\n", "a = 5\n")
    assert isinstance(out, Unmatched)
    assert "2 places" in out.reason and "lines 1, 4" in out.reason
    assert [c.start_line for c in out.candidates] == [1, 4]


def test_equally_close_fuzzy_places_are_ambiguous() -> None:
    text = ("def one():\n    value = compute(1)\n    return value\n\n"
            "def two():\n    value = compute(2)\n    return value\n")
    out = replace_in_text(text, "    value = compute(3)\n    return value\n", "    pass\n")
    assert isinstance(out, Unmatched)
    assert "several places" in out.reason
    assert {c.start_line for c in out.candidates} >= {2, 6}


def test_crlf_and_missing_final_newline_are_kept() -> None:
    text = "first\r\nsecond\r\nlast"
    out = replace_in_text(text, "second\nlast\n", "second!\nlast!\n")
    assert isinstance(out, Replaced)
    assert out.text == "first\r\nsecond!\r\nlast!"


def test_resolve_chains_blocks_creates_files_and_reports_failures(
        make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"a.py": "x = 1\ny = 2\n", "b.py": "print('b')\n", ".env": "KEY=secret\n"})
    res = resolve_edits(repo, [
        EditBlock("a.py", "x = 1\n", "x = 10\n"),
        EditBlock("a.py", "x = 10\ny = 2\n", "x = 10\ny = 20\n"),  # sees the first block's result
        EditBlock("new/c.py", "", "z = 3\n"),
        EditBlock("missing.py", "q = 1\n", "q = 2\n"),
        EditBlock("b.py", "", "print('again')\n"),
        EditBlock(".env", "KEY=secret\n", "KEY=x\n"),
        EditBlock("../outside.py", "", "x\n"),
    ])
    by_path = {c.path: c for c in res.changes}
    assert by_path["a.py"].after == "x = 10\ny = 20\n"
    assert by_path["new/c.py"].kind == "create" and by_path["new/c.py"].after == "z = 3\n"
    reasons = {f.block.path: f.reason for f in res.failures}
    assert "does not exist" in reasons["missing.py"]
    assert "already exists" in reasons["b.py"]
    assert "secret" in reasons[".env"]
    assert "outside the repository" in reasons["../outside.py"]
    assert not any(f.candidates for f in res.failures if f.block.path == ".env")
    assert "b.py" not in by_path
    assert (repo / "a.py").read_text() == "x = 1\ny = 2\n"  # resolving writes nothing
