"""Loop detection, context modes, and compaction that keeps the task, plan and conventions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agent.budget import LoopDetected, check_loop, count_repeats
from agent.context import build_repo_context
from agent.events import parse_event
from agent.session import Session
from agent.settings import AgentSettings
from indexer import Index
from runtime.llm import ReplayChatModel, load_script
from tests.agent.loop.conftest import SCRIPTS, collect, of_type, settings_for, write_script


async def test_same_tool_call_repeated_stops_as_a_loop(shop_repo: Path) -> None:
    session = Session(shop_repo, settings_for(SCRIPTS / "loop_repeat.jsonl"), policy="full-auto")
    events = await collect(session.run("fix the discounted total"))
    final = events[-1]
    assert final.status == "stopped" and "loop detected: read_file" in final.reason
    assert final.steps == 4  # plan + the 3 identical calls; the 4th call is never made


async def test_no_progress_for_n_steps_stops(shop_repo: Path) -> None:
    settings = settings_for(SCRIPTS / "explore.jsonl", no_progress_steps=4)
    events = await collect(Session(shop_repo, settings, policy="full-auto").run("fix it"))
    assert events[-1].status == "stopped" and "no progress: 4 model calls" in events[-1].reason


def test_repeat_counter_resets_are_per_signature() -> None:
    settings = AgentSettings(loop_repeat_limit=3)
    seen = count_repeats({}, [("read_file", {"path": "a"}), ("read_file", {"path": "a"})])
    assert seen == {'read_file{"path": "a"}': 1}  # once per step, however often in one answer
    seen = count_repeats(seen, [("read_file", {"path": "a"})])
    check_loop(settings, repeats=seen, idle_steps=0)
    seen = count_repeats(seen, [("read_file", {"path": "a"})])
    with pytest.raises(LoopDetected):
        check_loop(settings, repeats=seen, idle_steps=0)


def test_whole_repo_when_the_pack_fits_else_navigator(shop_repo: Path) -> None:
    with Index.open(shop_repo) as index:
        whole = build_repo_context(index, "discount", 128_000, AgentSettings())
        nav = build_repo_context(index, "discount", 200, AgentSettings(files_tokens=120))
        forced = build_repo_context(index, "discount", 128_000, AgentSettings(context_mode="navigator"))
    assert whole.mode == "whole-repo" and "price * pct / 100" in whole.text
    assert nav.mode == "navigator" and "Repository map" in nav.text
    assert forced.mode == "navigator"
    assert "do-not-leak" not in whole.text + nav.text


class RecordingReplay(ReplayChatModel):
    """Replay that keeps every prompt it was sent."""

    prompts: list[list[BaseMessage]] = []

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any):  # type: ignore[override]
        self.prompts.append(list(messages))
        yield from super()._stream(messages, *args, **kwargs)


async def test_compaction_keeps_task_plan_and_conventions(shop_repo: Path, tmp_path: Path) -> None:
    (shop_repo / "AGENTS.md").write_text("- Always use integer cents for money.\n")
    reads = [{"content": "", "tool_calls": [{"name": "read_file", "args": {"path": p}}]}
             for p in ["shop/prices.py", "shop/cart.py", "tests/test_cart.py", "AGENTS.md",
                       "shop/__init__.py", "notes.txt"]]
    script = write_script(tmp_path / "s.jsonl", [{"content": "1. Read everything.\n2. Fix."},
                                                 *reads, {"content": "Stopping here."}])
    model = RecordingReplay(steps=load_script(script), prompts=[])
    settings = settings_for(script, compaction="digest", keep_recent_messages=2, compact_at=0.5,
                            context_mode="navigator", map_tokens=200, files_tokens=0)
    settings = settings.model_copy(update={"model": settings.model.model_copy(
        update={"context_window": 1_300})})
    events = await collect(Session(shop_repo, settings, chat_model=model, policy="full-auto")
                           .run("fix the discounted total"))
    assert any("compacted" in n.text for n in of_type(events, "notice")), [
        (e.type, getattr(e, "reason", getattr(e, "prompt_tokens", ""))) for e in events if e.type in ("finished", "usage", "context_ready")]
    last = model.prompts[-1]
    assert "integer cents" in str(last[0].content)  # conventions: system prompt
    assert "fix the discounted total" in str(last[1].content)  # task
    assert "1. Read everything." in str(last[1].content)  # plan
    assert "Earlier in this task" in str(last[1].content)  # the summary of old turns
    assert len(last) < len(model.prompts[-2]) + 2  # old turns were dropped, not piled up
    # the kept turns never start with a tool result cut off from its call
    assert last[2].type != "tool"


def test_events_round_trip_through_json(shop_repo: Path) -> None:
    from agent.events import SessionFinished

    event = SessionFinished(status="success", reason="ok", tests="green", seq=3)
    again = parse_event(event.model_dump_json())
    assert again == event and again.succeeded
    from agent.events import TestOutput

    lines = TestOutput(command="pytest", scope="targeted", lines=["a", "", "b"], seq=4)
    assert parse_event(lines.model_dump_json()) == lines
