"""A killed run resumes from its checkpoint; approvals block until they are answered."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agent.session import Session, SessionError, load_checkpoint
from tests.agent.loop.conftest import (
    SCRIPTS, SHOP_FILES, collect, of_type, script_steps, settings_for, write_script,
)


async def test_run_that_dies_in_a_node_resumes_from_the_checkpoint(shop_repo: Path, tmp_path: Path) -> None:
    steps = script_steps("two_file_fix")
    # the model "dies" after planning: the act node raises (the script runs out)
    first = write_script(tmp_path / "first.jsonl", steps[:1])
    session = Session(shop_repo, settings_for(first), policy="full-auto")
    events = await collect(session.run("fix the discounted total"))
    assert events[-1].status == "error" and "--resume" in events[-1].reason
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    sid = session.session_id
    assert sid is not None

    # a new process (new Session, new model) continues where the checkpoint left off
    rest = write_script(tmp_path / "rest.jsonl", steps[1:])
    resumed = Session(shop_repo, settings_for(rest), policy="full-auto")
    events = await collect(resumed.resume(sid))
    assert events[0].type == "session_started" and events[0].resumed
    assert not of_type(events, "plan")  # planning is not redone
    assert events[-1].status == "success" and events[-1].steps == 3

    # resuming a finished session reports its outcome and does nothing else
    again = await collect(Session(shop_repo, settings_for(rest), policy="full-auto").resume(sid))
    assert [e.type for e in again] == ["finished"] and again[0].status == "success"


async def test_run_stopped_after_some_events_resumes(shop_repo: Path, tmp_path: Path) -> None:
    steps = script_steps("two_file_fix")
    session = Session(shop_repo, settings_for(SCRIPTS / "two_file_fix.jsonl"), policy="full-auto")
    events = []
    stream = session.run("fix the discounted total")
    async for event in stream:
        events.append(event)
        if event.type == "message_delta" and of_type(events, "plan"):
            break  # the process is killed while the model answers its first step
    await stream.aclose()
    saved = await load_checkpoint(shop_repo, session.session_id)
    assert saved is not None and saved["task"] == "fix the discounted total"
    # the resumed model answers from where the checkpointed state left off
    rest = write_script(tmp_path / "rest.jsonl", steps[saved["steps"]:])
    events = await collect(Session(shop_repo, settings_for(rest), policy="full-auto").resume(session.session_id))
    assert events[-1].status == "success", (saved["steps"], events[-1].reason)


async def test_unknown_session_is_a_clear_error(shop_repo: Path) -> None:
    with pytest.raises(SessionError, match="no session 'nope'"):
        await collect(Session(shop_repo, settings_for(SCRIPTS / "two_file_fix.jsonl")).resume("nope"))


async def test_suggest_policy_blocks_until_the_approval_is_answered(shop_repo: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "approval.jsonl"), policy="suggest")
    stream = session.run("fix the discounted total")
    seen = []
    async for event in stream:
        seen.append(event)
        if event.type == "approval_requested":
            break
    request = seen[-1]
    assert request.kind == "edit" and "shop/prices.py" in request.detail
    # paused: nothing written while the question is open
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]
    with pytest.raises(SessionError, match="no approval"):
        session.answer_approval("other", approved=True)
    session.answer_approval(request.request_id, approved=True, note="looks right")
    rest = [e async for e in stream]
    given = of_type(rest, "approval_given")
    assert given[0].by == "user" and given[0].approved and given[0].note == "looks right"
    assert rest[-1].status == "success"


async def test_rejected_edits_are_not_applied(shop_repo: Path, tmp_path: Path) -> None:
    steps = script_steps("approval")
    script = write_script(tmp_path / "s.jsonl", [*steps[:2], {"content": "Understood, stopping."}])
    session = Session(shop_repo, settings_for(script), policy="suggest")

    def deny(event: object) -> None:
        if getattr(event, "type", "") == "approval_requested":
            session.answer_approval(event.request_id, approved=False, note="not like this")  # type: ignore[attr-defined]

    events = await collect(session.run("fix the discounted total"), answer=deny)
    assert events[-1].status == "rejected"
    assert (shop_repo / "shop/prices.py").read_text() == SHOP_FILES["shop/prices.py"]


async def test_headless_pause_then_resume_asks_again(shop_repo: Path, tmp_path: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "approval.jsonl"), policy="suggest",
                      wait_for_approval=False)
    events = await collect(session.run("fix the discounted total"))
    assert events[-2].type == "approval_requested" and events[-1].status == "paused"
    rest = write_script(tmp_path / "rest.jsonl", script_steps("approval")[2:])
    later = Session(shop_repo, settings_for(rest))
    answered = []

    def approve(event: object) -> None:
        if getattr(event, "type", "") == "approval_requested":
            answered.append(event)
            later.answer_approval(event.request_id, approved=True)  # type: ignore[attr-defined]

    events = await collect(later.resume(session.session_id), answer=approve)
    assert len(answered) == 1 and events[-1].status == "success"


async def test_auto_edit_policy_asks_before_commands(shop_repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.jsonl", [
        {"content": "1. Look."},
        {"content": "", "tool_calls": [{"name": "run_command", "args": {"command": "touch made.txt"}}]},
        {"content": "Fine."},
    ])
    session = Session(shop_repo, settings_for(script), policy="auto-edit")
    asked = []

    def deny(event: object) -> None:
        if getattr(event, "type", "") == "approval_requested":
            asked.append(event)
            session.answer_approval(event.request_id, approved=False)  # type: ignore[attr-defined]

    events = await collect(session.run("make a file"), answer=deny)
    assert [a.kind for a in asked] == ["command"]
    assert not (shop_repo / "made.txt").exists() and not of_type(events, "command_run")


@pytest.mark.parametrize("task_writes_saved", [True, False])
async def test_run_killed_right_after_its_first_checkpoint_starts_over_on_resume(
        shop_repo: Path, monkeypatch: pytest.MonkeyPatch, task_writes_saved: bool) -> None:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    class Killed(BaseException):
        pass

    original = AsyncSqliteSaver.aput

    async def die(self: Any, *args: Any, **kwargs: Any) -> Any:
        await original(self, *args, **kwargs)
        raise Killed  # the process dies once the run's first checkpoint is on disk

    monkeypatch.setattr(AsyncSqliteSaver, "aput", die)
    (shop_repo / "NOTES.md").write_text("pinned notes\n")
    session = Session(shop_repo, settings_for(SCRIPTS / "two_file_fix.jsonl"), policy="auto-edit")
    with pytest.raises(Killed):
        await collect(session.run("fix the discounted total", pinned=["NOTES.md"]))
    monkeypatch.setattr(AsyncSqliteSaver, "aput", original)
    if not task_writes_saved:  # killed before the first task's writes reached the disk
        with sqlite3.connect(shop_repo / ".engram" / "sessions.sqlite") as conn:
            conn.execute("DELETE FROM writes")
    saved = await load_checkpoint(shop_repo, session.session_id or "")
    assert saved is not None and not saved.get("status")  # no node finished

    resumed = Session(shop_repo, settings_for(SCRIPTS / "two_file_fix.jsonl"))
    events = await collect(resumed.resume(session.session_id or ""))
    started = events[0]
    assert started.type == "session_started" and started.task == "fix the discounted total"
    assert started.policy == "auto-edit" and resumed.policy == "auto-edit"
    assert of_type(events, "context_ready")[0].pinned == ["NOTES.md"] and of_type(events, "plan")
    assert events[-1].status == "success", events[-1].reason


async def test_policy_given_on_resume_replaces_the_checkpointed_one(shop_repo: Path, tmp_path: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "approval.jsonl"), policy="suggest",
                      wait_for_approval=False)
    events = await collect(session.run("fix the discounted total"))
    assert events[-1].status == "paused"
    rest = write_script(tmp_path / "rest.jsonl", script_steps("approval")[2:])
    later = Session(shop_repo, settings_for(rest), policy="full-auto", wait_for_approval=False)
    events = await collect(later.resume(session.session_id or ""))
    assert events[0].policy == "full-auto" and not of_type(events, "approval_requested")
    given = of_type(events, "approval_given")
    assert [(g.by, g.approved, g.policy) for g in given] == [("policy", True, "full-auto")]
    assert events[-1].status == "success"
    saved = await load_checkpoint(shop_repo, session.session_id or "")
    assert saved is not None and saved["policy"] == "full-auto"  # it sticks for later resumes
