from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import tool

from runtime.llm import ReplayChatModel, ReplayExhaustedError, ReplayScriptError


@tool
def read_file(path: str) -> str:
    """Read a file of the repository."""
    return path


@tool
def run_tests(pattern: str = "") -> str:
    """Run the project's tests."""
    return pattern


def write(tmp_path: Path, *lines: dict | str) -> Path:
    path = tmp_path / "script.jsonl"
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


SCRIPT = (
    "# a recorded session",
    {"content": "Let me look.", "tool_calls": [{"name": "read_file", "args": {"path": "a.py"}}],
     "usage": {"input_tokens": 50, "output_tokens": 8, "cached_tokens": 10},
     "model": "deepseek-chat"},
    "",
    {"content": "Fixed: the loop was off by one.",
     "usage": {"input_tokens": 90, "output_tokens": 12}},
)


def test_replays_text_tool_calls_and_usage_in_order(tmp_path: Path) -> None:
    model = ReplayChatModel.from_file(write(tmp_path, *SCRIPT)).bind_tools([read_file, run_tests])
    first = model.invoke([HumanMessage("fix the bug")])
    assert first.content == "Let me look."
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("read_file", {"path": "a.py"})]
    assert first.tool_calls[0]["id"] == "call_0_0"  # stable ids without recorded ones
    assert first.usage_metadata["input_tokens"] == 50
    assert first.usage_metadata["input_token_details"]["cache_read"] == 10
    assert first.response_metadata["model_name"] == "deepseek-chat"
    second = model.invoke("next")
    assert second.content == "Fixed: the loop was off by one." and second.tool_calls == []


def test_streaming_yields_words_then_tool_call_chunks_then_usage(tmp_path: Path) -> None:
    model = ReplayChatModel.from_file(write(tmp_path, *SCRIPT))
    chunks = list(model.bind_tools([read_file]).stream("go"))
    texts = [c.content for c in chunks if c.content]
    assert texts == ["Let", " me", " look."]
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert isinstance(merged, AIMessageChunk)
    assert merged.content == "Let me look."
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("read_file", {"path": "a.py"})]
    assert merged.usage_metadata["output_tokens"] == 8


async def test_async_invoke_and_stream(tmp_path: Path) -> None:
    model = ReplayChatModel.from_file(write(tmp_path, *SCRIPT))
    first = await model.ainvoke("a")
    assert first.tool_calls[0]["name"] == "read_file"
    pieces = [c.content async for c in model.astream("b")]
    assert "".join(pieces) == "Fixed: the loop was off by one."


def test_exhausted_script_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, {"content": "only one"})
    model = ReplayChatModel.from_file(path)
    model.invoke("1")
    with pytest.raises(ReplayExhaustedError, match=r"has 1 responses.*for response 2") as info:
        model.invoke("2")
    assert str(path) in str(info.value)
    model.reset()
    assert model.invoke("again").content == "only one"


def test_tool_call_to_a_tool_not_offered_is_reported(tmp_path: Path) -> None:
    model = ReplayChatModel.from_file(write(tmp_path, *SCRIPT)).bind_tools([run_tests])
    with pytest.raises(ReplayScriptError, match="calls tool 'read_file'.*tools: run_tests"):
        model.invoke("x")


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", r"script.jsonl:1: not valid JSON"),
    ('["a list"]', r"script.jsonl:1: each line must be a JSON object"),
    ('{"content": "x", "surprise": 1}', r"script.jsonl:1: surprise"),
    ('{"tool_calls": [{"args": {}}]}', r"script.jsonl:1: tool_calls.0.name"),
])
def test_bad_script_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ReplayScriptError, match=message):
        ReplayChatModel.from_file(write(tmp_path, line))


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(ReplayScriptError, match="replay script not found"):
        ReplayChatModel.from_file(tmp_path / "nope.jsonl")
