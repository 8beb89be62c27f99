"""ChatOpenAI through Engram's factory against a scripted server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool

from runtime.llm import (
    AuthenticationError,
    ContextOverflowError,
    LLMError,
    MalformedResponseError,
    ModelSettings,
    ProviderError,
    RateLimitError,
    RequestTimeoutError,
    ServerUnreachableError,
    UnknownModelError,
    make_chat_model,
)

ENV = {"TEST_KEY": "sk-test"}


def settings(url: str, **kw: Any) -> ModelSettings:
    return ModelSettings(provider="deepseek", model="deepseek-chat", base_url=url,
                         api_key_env="TEST_KEY", **{"max_retries": 0, **kw})


@tool
def read_file(path: str) -> str:
    """Read a file."""
    return path


def test_completion_with_tool_call_and_key(fake_server) -> None:
    fake_server.reply_completion("", tool_calls=[{
        "id": "call_9", "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "src/app.py"}'}}])
    chat = make_chat_model(settings(fake_server.url), env=ENV).bind_tools([read_file])
    answer = chat.invoke("open the app")
    assert answer.tool_calls == [{"name": "read_file", "args": {"path": "src/app.py"},
                                  "id": "call_9", "type": "tool_call"}]
    seen = fake_server.requests[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.body["tools"][0]["function"]["name"] == "read_file"


def test_streaming_text_tool_calls_and_usage(fake_server) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-chat"}
    fake_server.reply_stream([
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "lo"}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "id": "call_1", "type": "function",
            "function": {"name": "read_file", "arguments": '{"pa'}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "function": {"arguments": 'th": "x"}'}}]}, "finish_reason": "tool_calls"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 5,
                                          "total_tokens": 35}},
    ])
    chat = make_chat_model(settings(fake_server.url), env=ENV).bind_tools([read_file])
    chunks = list(chat.stream("hi"))
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.content == "Hello"
    assert merged.tool_calls[0]["args"] == {"path": "x"}
    assert merged.usage_metadata["input_tokens"] == 30
    assert fake_server.requests[0].body["stream_options"] == {"include_usage": True}


def test_retry_honours_retry_after(fake_server) -> None:
    fake_server.reply_error(429, "slow down", headers={"Retry-After": "1"})
    fake_server.reply_completion("made it")
    chat = make_chat_model(settings(fake_server.url, max_retries=2), env=ENV)
    assert chat.invoke("x").content == "made it"
    assert len(fake_server.requests) == 2
    # The client waited as long as the server asked before trying again.
    assert fake_server.requests[1].at - fake_server.requests[0].at >= 0.9


def test_rate_limit_after_retries_is_typed_with_the_wait(fake_server) -> None:
    fake_server.reply_error(429, "quota exceeded", headers={"Retry-After": "7"})
    chat = make_chat_model(settings(fake_server.url), env=ENV)
    with pytest.raises(RateLimitError) as info:
        chat.invoke("x")
    assert info.value.retry_after == 7
    assert "try again in 7s" in str(info.value) and "quota exceeded" in str(info.value)


@pytest.mark.parametrize(("status", "message", "code", "error", "text"), [
    (401, "Authentication Fails, Your api key is invalid", None, AuthenticationError,
     "rejected the key in TEST_KEY (401)"),
    (404, "The model `deepseek-chta` does not exist", "model_not_found", UnknownModelError,
     "unknown model"),
    (500, "internal error", None, ProviderError, "answered 500: internal error"),
    (402, "Insufficient Balance", None, ProviderError, "answered 402: Insufficient Balance"),
    (400, "This model's maximum context length is 131072 tokens. However, you requested "
          "140000 tokens (139000 in the messages, 1000 in the completion).",
     "context_length_exceeded", ContextOverflowError,
     "prompt (140,000 tokens) exceeds the context window of 131,072 tokens"),
])
def test_http_errors_become_typed_one_line_errors(fake_server, status: int, message: str,
                                                  code: str | None, error: type,
                                                  text: str) -> None:
    fake_server.reply_error(status, message, code)
    with pytest.raises(error) as info:
        make_chat_model(settings(fake_server.url), env=ENV).invoke("x")
    assert text in str(info.value)
    assert fake_server.url in str(info.value) or error is ContextOverflowError
    assert "\n" not in str(info.value)


def test_context_overflow_keeps_the_counts(fake_server) -> None:
    fake_server.reply_error(400, "prompt is too long: 208000 tokens > 200000 maximum")
    with pytest.raises(ContextOverflowError) as info:
        make_chat_model(settings(fake_server.url), env=ENV).invoke("x")
    assert (info.value.prompt_tokens, info.value.context_window) == (208_000, 200_000)


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b'{"choices": nope', b'{"id": 1}'])
def test_garbage_body_is_a_malformed_response(fake_server, body: bytes) -> None:
    fake_server.reply(200, body)
    with pytest.raises(MalformedResponseError, match="malformed response from http://127.0.0.1"):
        make_chat_model(settings(fake_server.url), env=ENV).invoke("x")


def test_connection_refused_names_the_url(refused_url: str) -> None:
    with pytest.raises(ServerUnreachableError) as info:
        make_chat_model(settings(refused_url), env=ENV).invoke("x")
    assert refused_url in str(info.value) and "connection refused" in str(info.value)


def test_timeout(fake_server) -> None:
    fake_server.delay_s = 1.0
    with pytest.raises(RequestTimeoutError, match="within 0.3s"):
        make_chat_model(settings(fake_server.url, timeout=0.3), env=ENV).invoke("x")


async def test_async_errors_are_translated_too(fake_server) -> None:
    fake_server.reply_error(401, "bad key")
    with pytest.raises(AuthenticationError):
        await make_chat_model(settings(fake_server.url), env=ENV).ainvoke("x")
    fake_server.reply_error(500, "down")
    with pytest.raises(LLMError, match="answered 500"):
        async for _ in make_chat_model(settings(fake_server.url), env=ENV).astream("x"):
            pass
