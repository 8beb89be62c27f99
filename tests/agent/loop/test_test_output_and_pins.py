"""Live test output (batched, capped, before its result) and pinned files in every prompt."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.events import EventBase
from agent.session import Session
from agent.tools.test_output import TestOutputBatcher
from runtime.llm import load_script
from tests.agent.loop.conftest import (
    SCRIPTS,
    UNITTEST,
    RecordingReplay,
    collect,
    of_type,
    script_steps,
    settings_for,
    write_script,
)


async def test_batches_go_by_size_by_time_and_stop_at_the_cap() -> None:
    sent: list[EventBase] = []
    batcher = TestOutputBatcher("pytest", "suite", sent.append, max_lines=250, batch_lines=100,
                                interval_s=0.01)
    batcher.on_output("stdout", "first")
    await asyncio.sleep(0.05)  # a quiet test: the line still goes out after the interval
    assert [e.lines for e in sent] == [["first"]]  # type: ignore[attr-defined]
    for i in range(400):
        batcher.on_output("stderr" if i % 2 else "stdout", f"line {i}")
    batcher.close()
    batcher.on_output("stdout", "after close")
    lines = [ln for e in sent for ln in e.lines]  # type: ignore[attr-defined]
    assert all(len(e.lines) <= 100 for e in sent)  # type: ignore[attr-defined]
    assert lines[:3] == ["first", "line 0", "line 1"] and lines[249] == "line 248"
    assert lines[-1] == "... 151 more lines" and len(lines) == 251


async def test_test_output_streams_before_its_result_and_is_capped(shop_repo: Path) -> None:
    noisy = f"python -c \"[print('noise', i) for i in range(2500)]\" && {UNITTEST}"
    settings = settings_for(SCRIPTS / "two_file_fix.jsonl")
    settings = settings.model_copy(update={"sandbox": settings.sandbox.model_copy(
        update={"test_command": noisy})})
    events = await collect(Session(shop_repo, settings, policy="full-auto").run("fix the total"))
    assert events[-1].status == "success"
    kinds = [e.type for e in events]
    result_at = kinds.index("test_run")
    outputs = of_type(events, "test_output")
    assert outputs and all(kinds.index("test_output") < result_at for _ in outputs)
    assert all(events.index(o) < result_at for o in outputs)
    assert {o.command for o in outputs} == {noisy} and {o.scope for o in outputs} == {"suite"}
    lines = [ln for o in outputs for ln in o.lines]
    assert lines[0] == "noise 0" and len(lines) == 2001 and lines[-1].endswith("more lines")
    assert all(len(o.lines) <= 200 for o in outputs)


def _pin_script(tmp_path: Path, reads: int) -> Path:
    steps = [{"content": "1. Read.\n2. Stop."}]
    steps += [{"content": "", "tool_calls": [{"name": "read_file", "args": {"path": p}}]}
              for p in ["shop/prices.py", "shop/cart.py", "tests/test_cart.py", "shop/__init__.py",
                        "notes.txt", "docs/MONEY.md"][:reads]]
    return write_script(tmp_path / "pins.jsonl", [*steps, {"content": "Stopping here."}])


async def test_pinned_file_is_in_every_prompt_in_navigator_mode_and_after_compaction(
        shop_repo: Path, tmp_path: Path) -> None:
    (shop_repo / "docs").mkdir()
    (shop_repo / "docs" / "MONEY.md").write_text("Rule: all money is integer cents (PIN-MARKER).\n")
    (shop_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    script = _pin_script(tmp_path, 6)
    model = RecordingReplay(steps=load_script(script), prompts=[])
    settings = settings_for(script, compaction="digest", keep_recent_messages=2, compact_at=0.5,
                            context_mode="navigator", map_tokens=200, files_tokens=0)
    settings = settings.model_copy(update={"model": settings.model.model_copy(
        update={"context_window": 1_300})})
    pins = [str(shop_repo / "docs" / "MONEY.md"), "missing.py", "/etc/hostname", "shop",
            "logo.png", ".env", "docs/MONEY.md"]
    events = await collect(Session(shop_repo, settings, chat_model=model, policy="full-auto")
                           .run("fix the discounted total", pinned=pins))
    ready = of_type(events, "context_ready")[0]
    assert ready.mode == "navigator" and ready.pinned == ["docs/MONEY.md"]
    warnings = [n.text for n in of_type(events, "notice") if n.level == "warning"]
    for path, why in (("missing.py", "no such file"), ("/etc/hostname", "outside the repository"),
                      ("shop", "folder"), ("logo.png", "binary"), (".env", "secret")):
        assert any(path in w and why in w for w in warnings), (path, warnings)
    assert any("compacted" in n.text for n in of_type(events, "notice")), [
        e.prompt_tokens for e in of_type(events, "usage")]
    assert len(model.prompts) == 8
    for prompt in model.prompts:  # the plan call, every step, and the steps after compaction
        assert "integer cents (PIN-MARKER)" in str(prompt[0].content)
    assert "do-not-leak" not in "".join(str(m.content) for p in model.prompts for m in p)


async def test_resume_keeps_the_pins(shop_repo: Path, tmp_path: Path) -> None:
    (shop_repo / "NOTES.md").write_text("PIN-MARKER: keep prices as floats\n")
    steps = script_steps("two_file_fix")
    first = write_script(tmp_path / "first.jsonl", steps[:1])  # dies after planning
    session = Session(shop_repo, settings_for(first, context_mode="navigator"), policy="full-auto")
    events = await collect(session.run("fix the discounted total", pinned=["NOTES.md"]))
    assert events[-1].status == "error"
    rest = write_script(tmp_path / "rest.jsonl", steps[1:])
    model = RecordingReplay(steps=load_script(rest), prompts=[])
    resumed = Session(shop_repo, settings_for(rest, context_mode="navigator"), chat_model=model)
    events = await collect(resumed.resume(session.session_id or ""))
    assert events[-1].status == "success"
    assert model.prompts and all("PIN-MARKER" in str(p[0].content) for p in model.prompts)
