"""What the nodes work with besides the state: the model, the repository, memory, sandbox.

None of this is checkpointed; a resumed process builds it again from the settings.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.runnables import Runnable
from langgraph.config import get_stream_writer

from agent.context.compaction import TokenTally
from agent.events import EventBase, MessageDelta
from agent.memory import MemoryStore
from agent.settings import AgentSettings
from agent.tools.read_tools import ReadTools
from agent.tools.test_runs import TestRuns
from agent.undo import UndoStore
from indexer import Index
from runtime.llm import ModelPrices
from runtime.sandbox import Sandbox


@dataclass
class LoopDeps:
    root: Path
    agent: AgentSettings
    chat: BaseChatModel
    tools_chat: Runnable[Any, Any]
    """``chat`` bound to the tool definitions."""
    model_name: str
    window: int
    prices: ModelPrices | None
    index: Index
    memory: MemoryStore | None
    undo: UndoStore
    sandbox: Sandbox
    tally: TokenTally
    secret_patterns: list[str]
    recall_tokens: int
    reads: ReadTools
    tests: TestRuns
    session_id: str = ""
    policy_override: str | None = None
    """A policy given when a session is resumed; it replaces the checkpointed one."""


def event_sink() -> Callable[[EventBase], None]:
    """A function that sends events to the session's stream, usable from callbacks that run
    outside the node's context (e.g. a sandbox's output callback); a no-op outside a run."""
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return _drop
    # the writer reads the run's config from context variables: call it in the node's context
    context = contextvars.copy_context()

    def sink(event: EventBase) -> None:
        context.run(writer, event)

    return sink


def _drop(event: EventBase) -> None:
    return None


def emit(event: EventBase) -> None:
    """Send ``event`` to the session's stream (a no-op outside a graph run)."""
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer(event)


@dataclass(frozen=True)
class ModelReply:
    message: AIMessage
    input_tokens: int
    output_tokens: int
    cost_usd: float
    prompt_tokens: int


def _chunk_text(chunk: BaseMessage) -> str:
    content = chunk.content
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) and b.get("type", "text") == "text"
                   else "" for b in content)


async def call_model(deps: LoopDeps, runnable: Runnable[Any, Any], messages: list[BaseMessage],
                     *, stream: bool = True) -> ModelReply:
    """Stream one answer (``MessageDelta`` events as it arrives) and account its usage.

    Tokens come from the provider's usage report, else from Engram's own count."""
    prompt_tokens = deps.tally.count(messages)
    full: AIMessageChunk | None = None
    async for chunk in runnable.astream(messages):
        text = _chunk_text(chunk)
        if text and stream:
            emit(MessageDelta(text=text))
        full = chunk if full is None else full + chunk
    if full is None:
        full = AIMessageChunk(content="")
    message = AIMessage(
        content=full.content, tool_calls=full.tool_calls,
        invalid_tool_calls=full.invalid_tool_calls, usage_metadata=full.usage_metadata,
        response_metadata=full.response_metadata, id=full.id,
    )
    usage = message.usage_metadata or {}
    input_tokens = int(usage.get("input_tokens") or 0) or prompt_tokens
    output_tokens = int(usage.get("output_tokens") or 0) or deps.tally.count_text(_chunk_text(message))
    cached = int((usage.get("input_token_details") or {}).get("cache_read") or 0)
    cost = deps.prices.cost(input_tokens, output_tokens, cached) if deps.prices else 0.0
    return ModelReply(message, input_tokens, output_tokens, cost, prompt_tokens)
