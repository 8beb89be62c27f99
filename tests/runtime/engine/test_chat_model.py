"""EngineChatModel (LangChain) and the chat-template / tool-call plumbing under it."""

from __future__ import annotations

import pytest
from engine_helpers import CHAT_TEMPLATE, make_engine
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from runtime.engine import engine as engine_module
from runtime.engine.chat_model import EngineChatModel, to_template_messages
from runtime.engine.chat_template import ChatTemplate
from runtime.engine.errors import RequestError
from runtime.engine.tool_calls import ToolCallStreamSplitter, parse_tool_calls


def _force(monkeypatch: pytest.MonkeyPatch, engine, text: str) -> None:  # noqa: ANN001
    ids = engine.tokenizer.encode(text, add_special_tokens=False) + [engine.tokenizer.token_id("<|im_end|>")]
    state: dict[int, int] = {}

    def forced(logits, params, seen, generator):  # noqa: ANN001, ANN202
        state[id(params)] = state.get(id(params), 0) + 1
        return ids[min(state[id(params)], len(ids)) - 1]

    monkeypatch.setattr(engine_module, "sample_token", forced)


def test_from_model_ref_invoke_and_stream(llama_dir, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    model = EngineChatModel.from_model_ref(str(llama_dir), device="cpu", kv_cache_tokens=2048, max_tokens=40)
    _force(monkeypatch, model._loop.engine, "Paris is the capital. ✓")
    reply = model.invoke([SystemMessage("Be brief."), HumanMessage("Capital of France?")])
    assert reply.content == "Paris is the capital. ✓"
    assert reply.usage_metadata["output_tokens"] > 0
    chunks = [c.content for c in model.stream("Capital of France?")]
    assert "".join(chunks) == "Paris is the capital. ✓" and len([c for c in chunks if c]) > 1
    model._loop.stop()


def test_bound_tools_come_back_as_tool_calls(llama_dir, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    engine = make_engine(llama_dir)
    _force(monkeypatch, engine, '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool_call>')

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = EngineChatModel.from_engine(engine, max_tokens=120)
    reply = model.bind_tools([add]).invoke("what is 1 + 2?")
    assert reply.tool_calls[0]["name"] == "add" and reply.tool_calls[0]["args"] == {"a": 1, "b": 2}
    assert reply.content == ""
    model._loop.stop()


def test_message_conversion_keeps_tool_turns() -> None:
    msgs = to_template_messages([
        HumanMessage("hi"),
        AIMessage("", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}]),
        ToolMessage("42", tool_call_id="c1"),
    ])
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool"]
    assert msgs[1]["tool_calls"][0]["function"] == {"name": "f", "arguments": {"x": 1}}
    assert msgs[2]["tool_call_id"] == "c1"


def test_chat_template_renders_tools_and_reports_template_errors() -> None:
    tpl = ChatTemplate(CHAT_TEMPLATE)
    text = tpl.render([{"role": "user", "content": "hi"}], tools=[{"type": "function", "function": {"name": "f"}}])
    assert '{"type": "function", "function": {"name": "f"}}' in text and text.endswith("<|im_start|>assistant\n")
    strict = ChatTemplate("{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}")
    with pytest.raises(RequestError, match="first must be user"):
        strict.render([{"role": "assistant", "content": "x"}])


def test_tool_call_parsing_and_stream_splitting() -> None:
    content, calls = parse_tool_calls('ok <tool_call>{"name": "f", "arguments": {"p": "ü"}}</tool_call>')
    assert content == "ok" and calls[0].name == "f" and calls[0].arguments == '{"p": "ü"}'
    assert parse_tool_calls("<tool_call>not json</tool_call>")[1] == []
    splitter = ToolCallStreamSplitter()
    shown = "".join(splitter.feed(d) for d in ["Hi <to", "ol_call>{\"name\": \"g\"", ", \"arguments\": {}}</tool_call>"])
    assert shown == "Hi "
    tail, calls = splitter.finish()
    assert calls[0].name == "g" and tail == ""
    plain = ToolCallStreamSplitter()
    assert plain.feed("a <t") + plain.feed("x") == "a <tx"
