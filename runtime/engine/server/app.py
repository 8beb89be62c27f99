"""The FastAPI app: /health, /metrics, /v1/models, /v1/chat/completions, /v1/completions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response, StreamingResponse

from runtime.engine.engine_loop import EngineLoop
from runtime.engine.sampling import SamplingParams
from runtime.engine.server.errors import (
    error_body,
    generation_error,
    install_error_handlers,
)
from runtime.engine.server.metrics import CONTENT_TYPE, make_registry, metrics_text
from runtime.engine.server.schemas import ChatCompletionRequest, CompletionRequest
from runtime.engine.tool_calls import (
    ParsedToolCall,
    ToolCallStreamSplitter,
    tool_call_messages_for_template,
)


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _tool_calls_json(calls: list[ParsedToolCall]) -> list[dict[str, Any]]:
    return [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]


def create_app(loop: EngineLoop, model_name: str | None = None, default_max_tokens: int = 1024) -> FastAPI:
    """Build the app around a started :class:`EngineLoop`."""
    app = FastAPI(title="Engram engine", docs_url=None, redoc_url=None)
    install_error_handlers(app)
    engine = loop.engine
    name = model_name or engine.name
    created = int(time.time())

    @app.get("/health")
    async def health() -> dict[str, Any]:
        s = loop.stats
        return {"status": "ok", "model": name, "kv_blocks_free": s.free_blocks, "kv_blocks_total": s.total_blocks,
                "running": s.running, "waiting": s.waiting, "kv": s.kv}

    registry = make_registry(loop)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(metrics_text(registry), media_type=CONTENT_TYPE)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created,
                                            "owned_by": "engram", "max_model_len": engine.max_model_len}]}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest) -> Any:
        messages = [tool_call_messages_for_template(m.for_template()) for m in body.messages]
        tools = body.tools if body.tool_choice != "none" else None
        prompt = engine.chat_template.render(messages, tools=tools)
        ids = engine.tokenizer.encode(prompt, add_special_tokens=False)
        params = body.sampling(default_max_tokens)
        engine.check_request(ids, params)  # fail before any streamed byte is sent
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return StreamingResponse(_chat_stream(rid, ids, params, tools is not None, body.include_usage),
                                     media_type="text/event-stream")
        splitter = ToolCallStreamSplitter() if tools else None
        parts: list[str] = []
        last = None
        async for out in loop.aiterate(ids, params):
            last = out
            if out.error:
                status, err = generation_error(out.error)
                return JSONResponse(err, status_code=status)
            parts.append(splitter.feed(out.text) if splitter else out.text)
        calls: list[ParsedToolCall] = []
        if splitter:
            tail, calls = splitter.finish()
            parts.append(tail)
        assert last is not None
        message: dict[str, Any] = {"role": "assistant", "content": "".join(parts) or (None if calls else "")}
        if calls:
            message["tool_calls"] = _tool_calls_json(calls)
        return {
            "id": rid, "object": "chat.completion", "created": int(time.time()), "model": name,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if calls else last.finish_reason}],
            "usage": _usage(last.prompt_tokens, last.completion_tokens),
        }

    async def _chat_stream(
        rid: str, ids: list[int], params: SamplingParams, with_tools: bool, include_usage: bool
    ) -> AsyncIterator[str]:
        base = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": name}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        splitter = ToolCallStreamSplitter() if with_tools else None
        yield chunk({"role": "assistant", "content": ""})
        last = None
        async for out in loop.aiterate(ids, params):
            last = out
            if out.error:
                yield _sse(generation_error(out.error)[1])
                yield _sse("[DONE]")
                return
            text = splitter.feed(out.text) if splitter else out.text
            if text:
                yield chunk({"content": text})
        assert last is not None
        finish = last.finish_reason
        if splitter:
            tail, calls = splitter.finish()
            if tail:
                yield chunk({"content": tail})
            if calls:
                finish = "tool_calls"
                yield chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(_tool_calls_json(calls))]})
        yield chunk({}, finish)
        if include_usage:
            yield _sse({**base, "choices": [], "usage": _usage(last.prompt_tokens, last.completion_tokens)})
        yield _sse("[DONE]")

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest) -> Any:
        ids = engine.tokenizer.encode(body.prompt) if isinstance(body.prompt, str) else list(body.prompt)
        params = body.sampling(min(default_max_tokens, 16) if body.max_tokens is None else default_max_tokens)
        engine.check_request(ids, params)
        rid = f"cmpl-{uuid.uuid4().hex[:24]}"
        echo = body.prompt if body.echo and isinstance(body.prompt, str) else ""
        base = {"id": rid, "object": "text_completion", "created": int(time.time()), "model": name}
        if body.stream:
            return StreamingResponse(_completion_stream(base, ids, params, echo, body.include_usage),
                                     media_type="text/event-stream")
        parts = [echo]
        last = None
        async for out in loop.aiterate(ids, params):
            last = out
            if out.error:
                status, err = generation_error(out.error)
                return JSONResponse(err, status_code=status)
            parts.append(out.text)
        assert last is not None
        return {**base, "choices": [{"index": 0, "text": "".join(parts), "logprobs": None,
                                     "finish_reason": last.finish_reason}],
                "usage": _usage(last.prompt_tokens, last.completion_tokens)}

    async def _completion_stream(
        base: dict[str, Any], ids: list[int], params: SamplingParams, echo: str, include_usage: bool
    ) -> AsyncIterator[str]:
        def chunk(text: str, finish: str | None = None) -> str:
            return _sse({**base, "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]})

        if echo:
            yield chunk(echo)
        last = None
        async for out in loop.aiterate(ids, params):
            last = out
            if out.error:
                yield _sse(generation_error(out.error)[1])
                yield _sse("[DONE]")
                return
            if out.text or out.finished:
                yield chunk(out.text, out.finish_reason if out.finished else None)
        if include_usage and last is not None:
            yield _sse({**base, "choices": [], "usage": _usage(last.prompt_tokens, last.completion_tokens)})
        yield _sse("[DONE]")

    return app


__all__ = ["create_app", "error_body"]
