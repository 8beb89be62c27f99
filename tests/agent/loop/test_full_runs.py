"""Full runs on the shop fixture, driven by replay scripts: fix, recover, roll back, stop."""

from __future__ import annotations

import subprocess
from pathlib import Path

from agent.memory import MemoryStore
from agent.session import Session
from agent.undo import UndoStore
from tests.agent.loop.conftest import (
    SCRIPTS, SHOP_FILES, UNITTEST, collect, of_type, settings_for, snapshot_files,
)


def _unittest_passes(repo: Path) -> bool:
    return subprocess.run(UNITTEST.split(), cwd=repo, capture_output=True).returncode == 0


async def test_bug_across_two_files_is_fixed_and_goes_green(shop_repo: Path) -> None:
    assert not _unittest_passes(shop_repo)
    session = Session(shop_repo, settings_for(SCRIPTS / "two_file_fix.jsonl"), policy="full-auto")
    events = await collect(session.run("test_discounted_total fails; fix the discounted total"))

    final = events[-1]
    assert final.type == "finished" and final.status == "success", final
    assert final.tests == "green" and sorted(final.files_changed) == ["shop/cart.py", "shop/prices.py"]
    assert _unittest_passes(shop_repo)
    # one atomic edit set from a text block and a tool call, approved visibly by the policy
    applied = of_type(events, "edit_applied")
    assert len(applied) == 1 and sorted(applied[0].files) == ["shop/cart.py", "shop/prices.py"]
    assert [g.by for g in of_type(events, "approval_given")] == ["policy"]
    runs = of_type(events, "test_run")
    assert [r.ok for r in runs] == [True] and runs[0].command == UNITTEST
    assert of_type(events, "plan")[0].steps[0].startswith("Make apply_discount")
    assert of_type(events, "context_ready")[0].mode == "whole-repo"
    assert ".env" not in of_type(events, "context_ready")[0].files  # secrets never packed
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert final.total_tokens > 0 and final.steps == 3
    # what worked is remembered, with the session as its source
    with MemoryStore.open(shop_repo) as memory:
        texts = {e.kind: e for e in memory.list()}
    assert UNITTEST in texts["command"].text
    assert f"session:{session.session_id}" in texts["command"].sources
    # the undo point restores the original tree exactly
    UndoStore.open(shop_repo).restore(final.undo_points[0])
    assert snapshot_files(shop_repo) == {k: v.encode() for k, v in SHOP_FILES.items()}


async def test_search_block_that_does_not_match_goes_back_and_is_recovered(shop_repo: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "unmatched_search.jsonl"), policy="full-auto")
    events = await collect(session.run("fix the discounted total"))

    failed = of_type(events, "edit_failed")
    assert len(failed) == 1 and not failed[0].rolled_back
    # the failure names the file and shows the closest candidate from the real file
    assert "shop/prices.py" in failed[0].failures[0]
    assert "return price * pct / 100" in failed[0].failures[0]
    # nothing of that answer was applied, not even the cart edit that did match: the one
    # applied set comes from the corrected answer
    applied = of_type(events, "edit_applied")
    assert len(applied) == 1 and events.index(applied[0]) > events.index(failed[0])
    assert sorted(applied[0].files) == ["shop/cart.py", "shop/prices.py"]
    assert events[-1].status == "success" and _unittest_passes(shop_repo)


async def test_edit_set_that_breaks_syntax_is_rolled_back(shop_repo: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "syntax_break.jsonl"), policy="full-auto")
    stream = session.run("fix the discounted total")
    events = []
    async for event in stream:
        events.append(event)
        if event.type == "edit_failed":
            # at the moment of the report the file on disk is untouched
            assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    failed = of_type(events, "edit_failed")
    assert len(failed) == 1 and failed[0].rolled_back
    assert "syntax error" in failed[0].reason and "shop/prices.py:3" in failed[0].failures[0]
    assert events[-1].status == "success"


async def test_task_whose_tests_never_pass_stops_at_budget_and_undo_restores(shop_repo: Path) -> None:
    original = snapshot_files(shop_repo)
    settings = settings_for(SCRIPTS / "never_green.jsonl", max_steps=5, max_repairs=10)
    session = Session(shop_repo, settings, policy="full-auto")
    events = await collect(session.run("fix the discounted total"))

    final = events[-1]
    assert final.status == "stopped" and "step budget exhausted" in final.reason
    assert final.tests == "red" and final.steps == 5
    assert (shop_repo / "shop/helpers.py").exists() and not (shop_repo / "notes.txt").exists()
    assert "changed-by-command" in (shop_repo / "shop/__init__.py").read_text()
    assert of_type(events, "command_run")[0].exit_code == 0
    # restoring the first point undoes edits, the created file, the deleted file and the command
    UndoStore.open(shop_repo).restore(final.undo_points[0])
    assert snapshot_files(shop_repo) == original


async def test_secret_files_are_refused_to_the_model(shop_repo: Path, tmp_path: Path) -> None:
    from tests.agent.loop.conftest import write_script

    script = write_script(tmp_path / "s.jsonl", [
        {"content": "1. Look at the environment."},
        {"content": "", "tool_calls": [{"name": "read_file", "args": {"path": ".env"}}]},
        {"content": "I cannot read it."},
    ])
    events = await collect(Session(shop_repo, settings_for(script), policy="full-auto").run("show .env"))
    result = of_type(events, "tool_result")[0]
    assert not result.ok and "secret" in result.output
    assert all("do-not-leak" not in e.model_dump_json() for e in events)
    assert events[-1].status == "failed" and "without applying" in events[-1].reason
