"""A scripted OpenAI-compatible server on 127.0.0.1 for the runtime.llm tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

JSON = {"content-type": "application/json"}


@dataclass
class SeenRequest:
    at: float
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeServer:
    """Answers each POST with the next queued reply; records what it was sent."""

    url: str
    replies: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    delay_s: float = 0.0
    """Seconds to wait before answering (for timeouts)."""
    requests: list[SeenRequest] = field(default_factory=list)

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append((status, {**JSON, **(headers or {})}, data))

    def reply_completion(self, content: str = "hello", **kwargs: Any) -> None:
        self.reply(200, completion(content, **kwargs))

    def reply_error(self, status: int, message: str, code: str | None = None,
                    headers: dict[str, str] | None = None) -> None:
        self.reply(status, error_body(message, code), headers)

    def reply_stream(self, chunks: list[dict[str, Any]]) -> None:
        data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self.replies.append((200, {"content-type": "text/event-stream"}, data.encode()))


def completion(content: str = "hello", *, tool_calls: list[dict[str, Any]] | None = None,
               prompt_tokens: int = 100, completion_tokens: int = 20, cached_tokens: int = 0,
               model: str = "deepseek-chat") -> dict[str, Any]:
    """An OpenAI chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": cached_tokens}},
    }


def error_body(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length)
            state.requests.append(SeenRequest(time.monotonic(), self.path,
                                              {k.lower(): v for k, v in self.headers.items()},
                                              json.loads(raw or b"{}")))
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.replies:
                status, headers, data = state.replies.pop(0)
            else:
                status, headers = 500, JSON
                data = json.dumps(error_body("no reply queued")).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout tests)
                return

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"
