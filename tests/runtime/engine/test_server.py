"""The OpenAI-compatible server: httpx against the app, and one real uvicorn."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import torch
import uvicorn
from engine_helpers import make_engine

from runtime.engine import engine as engine_module
from runtime.engine.engine_loop import EngineLoop
from runtime.engine.errors import EngineError
from runtime.engine.server import bind_socket, create_app

TOOLS = [{"type": "function", "function": {"name": "read_file", "description": "Read a file",
                                            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]


@pytest.fixture
def loop(llama_dir) -> Iterator[EngineLoop]:  # noqa: ANN001
    running = EngineLoop(make_engine(llama_dir)).start()
    yield running
    running.stop()


@pytest.fixture
def client(loop: EngineLoop) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(loop)), base_url="http://test")


def script_output(monkeypatch: pytest.MonkeyPatch, loop: EngineLoop, text: str) -> None:
    """Make every request produce exactly ``text`` then end its turn (forced decoding)."""
    tok = loop.engine.tokenizer
    ids = tok.encode(text, add_special_tokens=False) + [tok.token_id("<|im_end|>")]
    counters: dict[int, int] = {}

    def forced(logits, params, seen, generator):  # noqa: ANN001, ANN202
        key = id(params)
        counters[key] = counters.get(key, 0) + 1
        return ids[min(counters[key], len(ids)) - 1]

    monkeypatch.setattr(engine_module, "sample_token", forced)


def _events(body: str) -> list[dict | str]:
    out: list[dict | str] = []
    for line in body.splitlines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


async def test_models_health_and_completion(client: httpx.AsyncClient) -> None:
    models = (await client.get("/v1/models")).json()
    assert models["data"][0]["id"] == "llama" or models["data"][0]["id"].startswith("hf-llama")
    health = (await client.get("/health")).json()
    assert health["status"] == "ok" and health["kv_blocks_free"] == health["kv_blocks_total"]
    r = await client.post("/v1/completions", json={"prompt": [5, 6, 7], "max_tokens": 5, "temperature": 0})
    body = r.json()
    assert r.status_code == 200 and body["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert body["choices"][0]["finish_reason"] == "length"


async def test_chat_plain_and_streaming_agree(client: httpx.AsyncClient, loop: EngineLoop,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    script_output(monkeypatch, loop, "Hello 世界!")
    req = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 50}
    plain = (await client.post("/v1/chat/completions", json=req)).json()
    assert plain["choices"][0]["message"] == {"role": "assistant", "content": "Hello 世界!"}
    assert plain["choices"][0]["finish_reason"] == "stop"
    r = await client.post("/v1/chat/completions", json={**req, "stream": True, "stream_options": {"include_usage": True}})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    assert events[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1] if isinstance(e, dict) and e["choices"])
    assert text == "Hello 世界!"
    assert events[-2]["usage"]["completion_tokens"] == plain["usage"]["completion_tokens"]


async def test_tool_calls_are_parsed_in_both_modes(client: httpx.AsyncClient, loop: EngineLoop,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    script_output(monkeypatch, loop, 'Let me look.<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>')
    req = {"messages": [{"role": "user", "content": "open a.py"}], "tools": TOOLS, "max_tokens": 200}
    body = (await client.post("/v1/chat/completions", json=req)).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me look."
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "read_file", "arguments": '{"path": "a.py"}'}
    events = _events((await client.post("/v1/chat/completions", json={**req, "stream": True})).text)
    deltas = [e["choices"][0] for e in events if isinstance(e, dict) and e["choices"]]
    assert "".join(d["delta"].get("content") or "" for d in deltas) == "Let me look."
    assert any(d["delta"].get("tool_calls") for d in deltas)
    assert deltas[-1]["finish_reason"] == "tool_calls"
    # The tool definitions went through the chat template into the prompt.
    without = (await client.post("/v1/chat/completions", json={**req, "tools": None})).json()
    assert body["usage"]["prompt_tokens"] > without["usage"]["prompt_tokens"] + 20


async def test_bad_requests_get_openai_errors(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = await client.post("/v1/chat/completions", json={"messages": []})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x " * 1100}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    assert "context window is 1024" in r.json()["error"]["message"]
    r = await client.get("/v1/nothing")
    assert r.status_code == 404 and "error" in r.json()


async def test_out_of_memory_fails_one_request_and_the_server_keeps_serving(
    client: httpx.AsyncClient, loop: EngineLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = loop.engine.runner.execute
    calls = {"n": 0}

    def flaky(chunks):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(chunks)

    monkeypatch.setattr(loop.engine.runner, "execute", flaky)
    r = await client.post("/v1/completions", json={"prompt": [1, 2, 3], "max_tokens": 3})
    assert r.status_code == 503 and r.json()["error"]["code"] == "out_of_memory"
    r = await client.post("/v1/completions", json={"prompt": [1, 2, 3], "max_tokens": 3})
    assert r.status_code == 200
    assert (await client.get("/health")).json()["kv_blocks_free"] == loop.engine.pool.num_blocks


async def test_concurrent_requests_are_batched(client: httpx.AsyncClient, loop: EngineLoop,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    widest = {"n": 0}
    real = loop.engine.runner.execute

    def spy(chunks):  # noqa: ANN001, ANN202
        widest["n"] = max(widest["n"], len(chunks))
        return real(chunks)

    monkeypatch.setattr(loop.engine.runner, "execute", spy)
    reqs = [client.post("/v1/completions", json={"prompt": [i + 1, 2, 3], "max_tokens": 24, "temperature": 0})
            for i in range(4)]
    results = await asyncio.gather(*reqs)
    assert all(r.status_code == 200 for r in results)
    assert widest["n"] >= 2


def test_real_server_disconnect_frees_blocks_and_port_clash_is_clear(loop: EngineLoop) -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(loop), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        with pytest.raises(EngineError, match=f"port {port} on 127.0.0.1 is already in use"):
            bind_socket("127.0.0.1", port)
        total = loop.engine.pool.num_blocks
        body = {"prompt": [4, 5, 6], "max_tokens": 200, "temperature": 0, "stream": True}
        with httpx.stream("POST", f"{base}/v1/completions", json=body, timeout=10) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    break  # the first token arrived; now hang up mid-stream
        deadline = time.time() + 10
        health = {}
        while time.time() < deadline:
            health = httpx.get(f"{base}/health", timeout=5).json()
            if health["running"] == 0 and health["kv_blocks_free"] == total:
                break
            time.sleep(0.05)
        assert health["running"] == 0 and health["kv_blocks_free"] == total
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
