"""The app's pieces without a terminal: diffs and hunk rejection, the markdown chunker, plan
ticks, @file mentions, the conversation digest, and saving the setup choice."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent.edits import FileChange, render_diff
from agent.edits.hunks import apply_hunks, split_hunks
from agent.events import FileDiff
from runtime.llm import ModelSettings
from tui.app.chat_context import ChatContext
from tui.app.diffs import RevertError, parse_diff, revert_file, revert_hunk
from tui.app.edit_review import HunkSelection, file_patches
from tui.app.markdown_stream import MarkdownChunker
from tui.app.mentions import complete, mention_prefix, mentioned, to_pin
from tui.app.model_setup import SetupError, needs_setup, save_model_table
from tui.app.plan_progress import PlanProgress

BEFORE = "".join(f"line {i}\n" for i in range(1, 21))
AFTER = BEFORE.replace("line 2\n", "LINE TWO\n").replace("line 18\n", "line 18\nextra\n")


def test_each_hunk_comes_back_out_on_its_own() -> None:
    patch = parse_diff(render_diff([FileChange("a.txt", BEFORE, AFTER)]))[0]
    assert patch.path == "a.txt" and len(patch.hunks) == 2 and (patch.added, patch.removed) == (2, 1)
    only_second = revert_hunk(AFTER, patch.hunks[1])
    assert "extra" not in only_second and "LINE TWO" in only_second
    assert revert_file(AFTER, patch) == BEFORE
    # a file that moved on since the diff is refused, not mangled
    with pytest.raises(RevertError, match="changed since"):
        revert_hunk(AFTER.replace("LINE TWO", "something else"), patch.hunks[0])


def test_created_and_deleted_files_and_lines_that_look_like_headers() -> None:
    text = render_diff([FileChange("new.py", None, "hi\n"),
                        FileChange("old.py", "-- sql comment\nbye\n", None),
                        FileChange("end.txt", "a\nb", "a\nc")])
    new, old, end = parse_diff(text)
    assert (new.action, old.action) == ("create", "delete")
    assert revert_file("hi\n", new) is None
    assert revert_file(None, old) == "-- sql comment\nbye\n"   # "--- sql" is a removed line
    assert revert_file("a\nc", end) == "a\nb"                  # no final newline, kept


def test_streamed_markdown_is_cut_into_finished_chunks() -> None:
    chunker = MarkdownChunker(max_lines=3)
    text = "# Title\n\nSome text\n\n```python\na = 1\nb = 2\nc = 3\nd = 4\n```\nafter"
    done = [c for ch in text for c in chunker.feed(ch)]
    assert [(c.kind, c.text) for c in done] == [
        ("markdown", "# Title"), ("markdown", "Some text"),
        ("code", "a = 1\nb = 2\nc = 3"), ("code", "d = 4")]
    assert done[2].language == "python"
    assert chunker.tail() is not None and chunker.tail().text == "after"
    assert [c.text for c in chunker.finish()] == ["after"] and chunker.tail() is None


def test_plan_steps_tick_off_with_files_and_green_tests() -> None:
    plan = PlanProgress()
    plan.set_plan(["Fix shop/prices.py", "Fix cart.py", "Run the tests", "Write docs"])
    plan.files_changed(["shop/cart.py"])
    assert plan.done == [False, True, False, False] and plan.current == 0
    plan.tests_passed()
    assert plan.done == [True, True, True, False] and plan.current == 3
    plan.finished(success=True)
    assert all(plan.done) and plan.current is None


def test_file_mentions_complete_and_pin() -> None:
    files = ["README.md", "shop/cart.py", "shop/prices.py", "tests/test_cart.py"]
    assert mention_prefix("look at @sho") == "sho" and mention_prefix("no mention") is None
    assert complete("shop/c", files) == ["shop/cart.py"]
    assert complete("cart", files) == ["shop/cart.py", "tests/test_cart.py"]
    assert mentioned("fix @shop/cart.py, and @nope.py", files) == ["shop/cart.py"]
    # known files, and path-like mentions the agent will check (and warn about); not @names
    assert to_pin("fix @shop/cart.py, @docs/new.md and @tests/test_cart.py; thanks @bob",
                  files) == ["shop/cart.py", "docs/new.md", "tests/test_cart.py"]


def test_follow_up_tasks_carry_a_digest_that_compact_and_clear_shrink() -> None:
    chat = ChatContext()
    assert chat.preface("task") == "task"
    chat.add("fix the total", "success: done", ["shop/cart.py"])
    assert "fix the total -> success: done (changed: shop/cart.py)" in chat.preface("now the tax")
    assert chat.compact() == 1 and chat.turns == []
    assert "earlier tasks: fix the total" in chat.preface("x")
    chat.clear()
    assert chat.preface("x") == "x"


def test_setup_choice_is_saved_into_the_user_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('approval_policy = "auto-edit"\n[model]\ntimeout = 30.0\n', encoding="utf-8")
    save_model_table({"provider": "openai", "model": "gpt-4.1", "base_url": "http://127.0.0.1:9/v1",
                      "api_key_env": "MY_KEY"}, path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["approval_policy"] == "auto-edit"
    assert data["model"] == {"timeout": 30.0, "provider": "openai", "model": "gpt-4.1",
                             "base_url": "http://127.0.0.1:9/v1", "api_key_env": "MY_KEY"}
    save_model_table({"base_url": None}, path)
    assert "base_url" not in tomllib.loads(path.read_text(encoding="utf-8"))["model"]
    with pytest.raises(SetupError, match="unknown provider"):
        save_model_table({"provider": "nonsense"}, path)
    assert tomllib.loads(path.read_text(encoding="utf-8"))["model"]["provider"] == "openai"


def test_setup_is_offered_only_on_a_first_run_without_a_key() -> None:
    assert needs_setup(ModelSettings(), env={})
    assert not needs_setup(ModelSettings(), env={"DEEPSEEK_API_KEY": "k"})
    assert not needs_setup(ModelSettings(), env={"ENGRAM_MODEL__PROVIDER": "ollama"})
    save_model_table({"provider": "ollama"})
    assert not needs_setup(ModelSettings(), env={})


def test_review_hunks_match_the_agents_split_and_selection_reports_left_out_ones() -> None:
    middle = "".join(f"more {i}\n" for i in range(10))
    before, after = BEFORE + middle + "tail", AFTER + middle + "TAIL"  # 3 hunks; no final newline
    changed = FileChange("a.txt", before, after)
    files = [FileDiff(path="a.txt", action="modify", diff=changed.diff()),
             FileDiff(path="new.txt", action="create", diff=""),  # an empty new file: no @@ at all
             FileDiff(path="old.txt", action="delete", diff=FileChange("old.txt", "x\n", None).diff())]
    patches = file_patches(files)
    assert [len(p.hunks) for p in patches] == [len(split_hunks(f.diff)) for f in files] == [3, 0, 1]
    # hunk i shown is hunk i the agent applies or leaves out
    for i in range(3):
        assert revert_hunk(after, patches[0].hunks[i]) == apply_hunks(before, after, rejected={i})
    selection = HunkSelection(patches)
    assert selection.total == 5 and selection.positions() == [(0, 0), (0, 1), (0, 2), (1, None), (2, 0)]
    selection.toggle_hunk(0, 1)
    selection.toggle_file(1)
    assert selection.rejected_hunks() == {"a.txt": [1], "new.txt": [0]} and selection.kept == 3
    assert selection.states()[0] == ["on", "off", "on"]
    selection.toggle_file(0)  # partly off: the whole file goes off
    selection.toggle_file(1)  # all off: back on
    assert selection.rejected_hunks() == {"a.txt": [0, 1, 2]}
