"""Per-hunk approval: the hunks the TUI shows are the hunks the agent leaves out."""

from __future__ import annotations

import random

from agent.edits import FileChange
from agent.edits.hunks import apply_hunks, hunk_count, split_hunks

OLD = "".join(f"line {i}\n" for i in range(30))
NEW = OLD.replace("line 2\n", "line two\n").replace("line 25\n", "line twenty-five\nextra\n")


def test_split_hunks_of_a_file_diff_in_order_with_their_headers() -> None:
    hunks = split_hunks(FileChange("a.py", OLD, NEW).diff())
    assert len(hunks) == 2 == hunk_count(OLD, NEW)
    assert hunks[0].startswith("@@ -1,6 +1,6 @@") and "+line two\n" in hunks[0]
    assert hunks[1].startswith("@@") and "+extra\n" in hunks[1] and "---" not in hunks[1]


def test_rejected_hunk_keeps_the_old_text_and_the_other_applies() -> None:
    only_second = apply_hunks(OLD, NEW, {0})
    assert "line 2\n" in only_second and "line twenty-five\nextra\n" in only_second
    only_first = apply_hunks(OLD, NEW, {1})
    assert "line two\n" in only_first and "line 25\n" in only_first and "extra" not in only_first
    assert apply_hunks(OLD, NEW, ()) == NEW and apply_hunks(OLD, NEW, {0, 1}) == OLD


def test_created_and_deleted_files_are_one_hunk() -> None:
    assert len(split_hunks(FileChange("n.py", None, "a\nb\n").diff())) == 1
    assert len(split_hunks(FileChange("n.py", "a\nb\n", None).diff())) == 1
    assert hunk_count(None, "") == hunk_count("x\n", None) == 1


def test_hunks_agree_with_the_diff_on_random_edits() -> None:
    rng = random.Random(7)
    for _ in range(300):
        old = [f"l{i}\n" for i in range(rng.randint(0, 40))]
        new = list(old)
        for _ in range(rng.randint(1, 5)):
            k = rng.randint(0, len(new))
            if rng.random() < 0.4 or not new or k == len(new):
                new.insert(k, f"new{rng.random()}\n")
            elif rng.random() < 0.5:
                del new[k]
            else:
                new[k] = f"sub{rng.random()}\n"
        a, b = "".join(old), "".join(new).rstrip("\n") if rng.random() < 0.2 else "".join(new)
        hunks = split_hunks(FileChange("x.py", a, b).diff())
        assert len(hunks) == hunk_count(a, b)
        for i in range(len(hunks)):
            # leaving hunk i out and then diffing against the full edit shows exactly hunk i
            partial = apply_hunks(a, b, {i})
            rest = split_hunks(FileChange("x.py", partial, b).diff())
            assert len(rest) == 1 and _changed(rest[0]) == _changed(hunks[i])


def _changed(hunk: str) -> list[str]:
    return [ln for ln in hunk.splitlines() if ln[:1] in "+-" and not ln.startswith("@@")]
