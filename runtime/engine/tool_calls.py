"""Tool calls in the Qwen/Hermes format: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


@dataclass
class ParsedToolCall:
    id: str
    name: str
    arguments: str
    """JSON text of the arguments object (what OpenAI's API carries)."""


def parse_tool_calls(text: str) -> tuple[str, list[ParsedToolCall]]:
    """Split model output into plain content and the tool calls it contains.

    A block that is not valid JSON with a ``name`` stays in the content, so nothing is lost.
    """
    calls: list[ParsedToolCall] = []
    kept: list[str] = []
    last = 0
    for match in _TOOL_CALL.finditer(text):
        call = _parse_one(match.group(1))
        if call is None:
            continue
        kept.append(text[last : match.start()])
        last = match.end()
        calls.append(call)
    kept.append(text[last:])
    return "".join(kept).strip() if calls else text, calls


def _parse_one(body: str) -> ParsedToolCall | None:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    args: Any = data.get("arguments", data.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            pass
    arguments = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    return ParsedToolCall(f"call_{uuid.uuid4().hex[:24]}", data["name"], arguments)


def tool_call_messages_for_template(message: dict[str, Any]) -> dict[str, Any]:
    """OpenAI assistant message -> the shape HF chat templates expect (arguments as objects)."""
    calls = message.get("tool_calls")
    if not calls:
        return message
    converted = []
    for call in calls:
        fn = dict(call.get("function", call))
        if isinstance(fn.get("arguments"), str):
            try:
                fn["arguments"] = json.loads(fn["arguments"])
            except json.JSONDecodeError:
                pass
        converted.append({"type": "function", "id": call.get("id"), "function": fn})
    return {**message, "tool_calls": converted}


class ToolCallStreamSplitter:
    """Streams plain content while holding back anything from the first ``<tool_call>`` on."""

    _OPEN = "<tool_call>"

    def __init__(self) -> None:
        self._text = ""
        self._emitted = 0
        self._in_call = False

    def feed(self, delta: str) -> str:
        """Content safe to show now."""
        self._text += delta
        if self._in_call:
            return ""
        at = self._text.find(self._OPEN, self._emitted)
        if at >= 0:
            self._in_call = True
            out, self._emitted = self._text[self._emitted : at], at
            return out
        keep = next((n for n in range(len(self._OPEN) - 1, 0, -1) if self._text.endswith(self._OPEN[:n])), 0)
        end = len(self._text) - keep
        out, self._emitted = self._text[self._emitted : end], max(self._emitted, end)
        return out

    def finish(self) -> tuple[str, list[ParsedToolCall]]:
        """(content not yet emitted, the tool calls) once the output is complete."""
        rest = self._text[self._emitted :]
        content, calls = parse_tool_calls(rest)
        return (content if calls else rest), calls
