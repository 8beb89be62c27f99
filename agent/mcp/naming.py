"""Tool names: ``NAME.tool`` for people, a provider-safe ``NAME__tool`` for the model."""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 64


def qualified_name(server: str, tool: str) -> str:
    """The name shown in events and listings."""
    return f"{server}.{tool}"


def model_name(server: str, tool: str, *, dotted: bool = False) -> str:
    """The name the model calls the tool by."""
    if dotted:
        return f"{server}.{tool}"[:MAX_NAME]
    return f"{server}__{_UNSAFE.sub('_', tool)}"[:MAX_NAME]


def tool_definition(name: str, description: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    """An OpenAI-style function definition (what ``bind_tools`` accepts)."""
    params = dict(schema or {})
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return {"type": "function",
            "function": {"name": name, "description": description or name, "parameters": params}}
