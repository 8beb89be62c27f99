from __future__ import annotations

from pathlib import Path

from langchain_core.tools import tool

from runtime.llm import (
    ModelSettings,
    ReplayChatModel,
    ScriptStep,
    load_script,
    make_chat_model,
    record_to,
)


@tool
def run_tests(pattern: str) -> str:
    """Run the tests matching a pattern."""
    return pattern


STEPS = [
    ScriptStep.model_validate({
        "content": "Running them.", "tool_calls": [{"name": "run_tests", "args": {"pattern": "k"},
                                                    "id": "call_a"}],
        "usage": {"input_tokens": 40, "output_tokens": 6, "cached_tokens": 0},
        "model": "deepseek-chat"}),
    ScriptStep.model_validate({"content": "All green.", "model": "deepseek-chat",
                               "usage": {"input_tokens": 70, "output_tokens": 3}}),
]


def test_record_then_replay_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    recorder = record_to(ReplayChatModel(steps=STEPS), path)
    bound = recorder.bind_tools([run_tests])
    first = bound.invoke("run the tests")
    streamed = list(bound.stream("and?"))  # the second answer arrives streamed
    assert "".join(c.content for c in streamed) == "All green."

    recorded = load_script(path)
    assert recorded == STEPS
    replayed = ReplayChatModel.from_file(path).bind_tools([run_tests]).invoke("again")
    assert replayed.tool_calls == first.tool_calls
    assert replayed.usage_metadata == first.usage_metadata


def test_recording_a_real_http_model(tmp_path: Path, fake_server) -> None:
    fake_server.reply_completion("", tool_calls=[{
        "id": "call_1", "type": "function",
        "function": {"name": "run_tests", "arguments": '{"pattern": "test_x"}'}}],
        prompt_tokens=120, completion_tokens=9, cached_tokens=100)
    fake_server.reply_completion("done", prompt_tokens=150, completion_tokens=2)
    path = tmp_path / "bug-report.jsonl"
    chat = make_chat_model(ModelSettings(provider="vllm", model="m", base_url=fake_server.url,
                                         record_path=str(path), max_retries=0), env={})
    bound = chat.bind_tools([run_tests])
    bound.invoke("go")
    bound.invoke("next")
    # The inner model formatted the tools exactly as it would without the recorder.
    assert fake_server.requests[0].body["tools"][0]["function"]["name"] == "run_tests"

    steps = load_script(path)
    assert [s.content for s in steps] == ["", "done"]
    assert steps[0].tool_calls[0].args == {"pattern": "test_x"}
    assert steps[0].usage is not None and steps[0].usage.cached_tokens == 100
    # No stray temp files next to the script.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bug-report.jsonl"]
