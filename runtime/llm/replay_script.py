"""The replay script format: one JSON object per line, one line per model call.

```
{"content": "Reading it.", "tool_calls": [{"name": "read_file", "args": {"path": "a.py"}}],
 "usage": {"input_tokens": 812, "output_tokens": 31, "cached_tokens": 512}, "model": "m"}
{"content": "Done: the bug was an off-by-one."}
```

``content`` (text), ``tool_calls`` (``name``, ``args``, optional ``id``), ``usage`` and ``model``
are all optional. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runtime.atomic_write import write_text_atomic
from runtime.llm.errors import ReplayScriptError, one_line


class ScriptedToolCall(BaseModel):
    """One tool call the model makes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptedUsage(BaseModel):
    """Token counts reported for the call."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cached_tokens: int = Field(default=0, ge=0)


class ScriptStep(BaseModel):
    """The model's answer to one call."""

    model_config = ConfigDict(extra="forbid")

    content: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    usage: ScriptedUsage | None = None
    model: str | None = None


def parse_script(text: str, source: str = "<script>") -> list[ScriptStep]:
    """Steps of a script; ``ReplayScriptError`` names ``source:line`` for a bad line."""
    steps: list[ScriptStep] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ReplayScriptError(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ReplayScriptError(f"{source}:{number}: each line must be a JSON object")
        try:
            steps.append(ScriptStep.model_validate(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "line"
            raise ReplayScriptError(
                f"{source}:{number}: {where}: {one_line(err['msg'], 120)}") from None
    return steps


def load_script(path: str | Path) -> list[ScriptStep]:
    """Read a script file."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReplayScriptError(f"replay script not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayScriptError(f"cannot read replay script {p}: {one_line(exc, 120)}") from None
    return parse_script(text, str(p))


def dump_script(steps: list[ScriptStep]) -> str:
    """The text of a script holding ``steps``."""
    return "".join(
        json.dumps(step.model_dump(exclude_defaults=True), ensure_ascii=False) + "\n"
        for step in steps
    )


def write_script(path: str | Path, steps: list[ScriptStep]) -> None:
    """Write ``steps`` to ``path`` atomically (temp file + rename)."""
    write_text_atomic(path, dump_script(steps))


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [block.get("text", "") if isinstance(block, dict) else str(block)
             for block in content
             if not isinstance(block, dict) or block.get("type") in (None, "text")]
    return "".join(p for p in parts if isinstance(p, str))


def step_from_message(message: AIMessage) -> ScriptStep:
    """Record what a model answered."""
    usage = message.usage_metadata
    scripted_usage = None
    if usage:
        details = usage.get("input_token_details") or {}
        scripted_usage = ScriptedUsage(
            input_tokens=usage.get("input_tokens", 0), output_tokens=usage.get("output_tokens", 0),
            cached_tokens=details.get("cache_read", 0) or 0)
    model = message.response_metadata.get("model_name") or message.response_metadata.get("model")
    return ScriptStep(
        content=message_text(message),
        tool_calls=[ScriptedToolCall(name=c["name"], args=c.get("args") or {}, id=c.get("id"))
                    for c in message.tool_calls],
        usage=scripted_usage,
        model=model if isinstance(model, str) else None,
    )


def usage_metadata(step: ScriptStep) -> dict[str, Any] | None:
    """LangChain's ``usage_metadata`` for a step's usage."""
    if step.usage is None:
        return None
    u = step.usage
    return {
        "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
        "input_token_details": {"cache_read": u.cached_tokens},
    }


def tool_call_id(step_index: int, call_index: int, call: ScriptedToolCall) -> str:
    """The recorded id, or a stable one derived from the position in the script."""
    return call.id or f"call_{step_index}_{call_index}"
