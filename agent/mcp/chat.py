"""A chat model that runs MCP tool calls itself, so the loop needs no change to use them.

``McpChatModel`` wraps the session's model: ``bind_tools`` adds the MCP servers' tools to
Engram's own; when an answer calls MCP tools, each call is put to the approval policy, run,
and handed back to the model, which answers again. The loop receives the final answer (its
Engram tool calls) with a short record of the MCP calls in its text, so the checkpointed
conversation keeps what the tools returned.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.ai import add_usage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict

from agent.events import Notice, ToolCallFinished, ToolCallStarted
from agent.graph.deps import emit
from agent.mcp.approvals import ApprovalBroker
from agent.mcp.client import McpHub, McpServerDown

RECORD_CHARS = 1_500
"""Characters of an MCP result kept in the answer's text (the model got all of it)."""


class McpChatModel(BaseChatModel):
    """``inner`` plus the tools of ``hub``, every MCP call approved through ``broker``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    hub: McpHub
    broker: ApprovalBroker
    model_name: str = ""
    max_rounds: int = 8
    """MCP rounds one model call may take before its answer goes to the loop as it is."""

    @property
    def _llm_type(self) -> str:
        return "engram-mcp"

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
                   *, tool_choice: str | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools] + self.hub.definitions()
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        # Synchronous callers get the plain model: MCP calls need the event loop.
        return self.inner._generate(messages, stop=stop, **_without_mcp(kwargs, self.hub))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self.inner._stream(messages, stop=stop, **_without_mcp(kwargs, self.hub))

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        model: Runnable[Any, Any] = self.inner.bind(**kwargs) if kwargs else self.inner
        convo = list(messages)
        usage: Any = None
        for round_no in range(self.max_rounds + 1):
            full: AIMessageChunk | None = None
            async for chunk in model.astream(convo, stop=stop):
                if not isinstance(chunk, AIMessageChunk):
                    continue
                if chunk.content:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=chunk.content))
                full = chunk if full is None else full + chunk
            full = full or AIMessageChunk(content="")
            if full.usage_metadata:
                usage = full.usage_metadata if usage is None else add_usage(usage, full.usage_metadata)
            ours = [c for c in full.tool_calls if self.hub.lookup(c["name"]) is not None]
            if not ours or "tools" not in kwargs or round_no == self.max_rounds:
                yield _final_chunk(full, usage)
                return
            results: list[ToolMessage] = []
            for call in ours:
                text = await self._run(call)
                results.append(ToolMessage(content=text, tool_call_id=call["id"] or "",
                                           name=call["name"]))
                record = f"\n\n[{call['name']} returned: {_clip(text)}]\n"
                yield ChatGenerationChunk(message=AIMessageChunk(content=record))
            rest = [c for c in full.tool_calls if self.hub.lookup(c["name"]) is None]
            if rest or full.invalid_tool_calls:
                # Engram's own calls go to the loop now; the MCP results are in the text.
                yield _final_chunk(full, usage, keep=rest)
                return
            convo += [AIMessage(content=full.content, tool_calls=ours), *results]

    async def _run(self, call: dict[str, Any]) -> str:
        tool = self.hub.lookup(call["name"])
        assert tool is not None
        args = call.get("args") or {}
        call_id = call.get("id") or tool.qualified
        shown = json.dumps(args, ensure_ascii=False)
        decision = await self.broker.ask(
            "command", f"call MCP tool {tool.qualified}({shown[:200]})",
            f"{tool.qualified} {shown}")
        if not decision.approved:
            note = f" ({decision.note})" if decision.note else ""
            return f"the user declined the call of {tool.qualified}{note}; do not retry it"
        emit(ToolCallStarted(call_id=call_id, name=tool.qualified, args=args))
        try:
            outcome = await self.hub.call(tool, args)
            text, ok = outcome.text, outcome.ok
        except McpServerDown as exc:
            emit(Notice(level="warning", text=f"{exc}; the session goes on without it"))
            text, ok = f"error: {exc}; its tools are no longer available", False
        emit(ToolCallFinished(call_id=call_id, name=tool.qualified, ok=ok, output=_clip(text, 400)))
        return text


def _final_chunk(full: AIMessageChunk, usage: Any,
                 keep: list[dict[str, Any]] | None = None) -> ChatGenerationChunk:
    calls = full.tool_calls if keep is None else keep
    chunks = [{"name": c["name"], "args": json.dumps(c.get("args") or {}, ensure_ascii=False),
               "id": c.get("id"), "index": i, "type": "tool_call_chunk"}
              for i, c in enumerate(calls)]
    for j, bad in enumerate(full.invalid_tool_calls, start=len(chunks)):
        chunks.append({"name": bad.get("name"), "args": bad.get("args"), "id": bad.get("id"),
                       "index": j, "type": "tool_call_chunk"})
    return ChatGenerationChunk(message=AIMessageChunk(
        content="", tool_call_chunks=chunks, usage_metadata=usage,  # type: ignore[arg-type]
        response_metadata=full.response_metadata))


def _without_mcp(kwargs: dict[str, Any], hub: McpHub) -> dict[str, Any]:
    tools = kwargs.get("tools")
    if not tools:
        return kwargs
    keep = [t for t in tools if hub.lookup(t.get("function", {}).get("name", "")) is None]
    return {**kwargs, "tools": keep}


def _clip(text: str, limit: int = RECORD_CHARS) -> str:
    text = text.replace("<<<<<<<", "<<<").replace(">>>>>>>", ">>>")  # never read as an edit block
    return text if len(text) <= limit else text[:limit] + f" ... ({len(text) - limit} more characters)"
