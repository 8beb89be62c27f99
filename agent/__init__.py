"""The Engram agent: ``Session`` runs a task as a stream of typed events (``agent.events``).

Exports load on first use: ``agent.config`` is imported by every ``engram`` command and must
not pay for langgraph's import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EVENTS = (
    "ApprovalGiven", "ApprovalRequested", "AssistantMessage", "CommandFinished", "ContextReady",
    "EditSetApplied", "EditSetFailed", "EditSetProposed", "Event", "EventBase", "FileDiff",
    "MessageDelta", "Notice", "PlanReady", "SessionFinished", "SessionStarted",
    "TestOutput", "TestRunFinished", "TokenUsage", "ToolCallFinished", "ToolCallStarted", "parse_event",
)
_EXPORTS: dict[str, str] = {
    "Session": "agent.session",
    "SessionError": "agent.session_setup",
    "AgentSettings": "agent.settings",
    **{name: "agent.events" for name in _EVENTS},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from agent.events import (
        ApprovalGiven, ApprovalRequested, AssistantMessage, CommandFinished, ContextReady,
        EditSetApplied, EditSetFailed, EditSetProposed, Event, EventBase, FileDiff, MessageDelta,
        Notice, PlanReady, SessionFinished, SessionStarted, TestOutput, TestRunFinished,
        TokenUsage, ToolCallFinished, ToolCallStarted, parse_event,
    )
    from agent.session import Session
    from agent.session_setup import SessionError
    from agent.settings import AgentSettings
