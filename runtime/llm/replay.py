"""A chat model that answers from a recorded script: deterministic tests, demos, bug reports.

Select it with ``--model replay:FILE``. Each call takes the next line of the script; text
streams word by word, tool calls stream as tool-call chunks, usage arrives on the last chunk.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from runtime.llm.errors import ReplayExhaustedError, ReplayScriptError
from runtime.llm.replay_script import ScriptStep, load_script, tool_call_id, usage_metadata

_PIECES = re.compile(r"\s*\S+|\s+")


class ReplayChatModel(BaseChatModel):
    """Answers each call with the next step of a script (see ``runtime.llm.replay_script``)."""

    steps: list[ScriptStep] = Field(default_factory=list)
    source: str = "<memory>"
    """Where the steps came from, for messages."""
    _cursor: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> ReplayChatModel:
        """Load a script file; ``ReplayScriptError`` names the file and line of a problem."""
        steps = load_script(path)
        return cls(steps=steps, source=str(Path(path).expanduser()), **kwargs)

    @property
    def _llm_type(self) -> str:
        return "engram-replay"

    @property
    def remaining(self) -> int:
        """Steps not yet replayed."""
        return len(self.steps) - self._cursor

    def reset(self) -> None:
        """Start again from the first step."""
        with self._lock:
            self._cursor = 0

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools like any chat model; replayed tool calls are checked against them."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        index, step = self._next_step(kwargs.get("tools"))
        message = AIMessage(
            content=step.content,
            tool_calls=[
                {"name": c.name, "args": c.args, "id": tool_call_id(index, i, c),
                 "type": "tool_call"}
                for i, c in enumerate(step.tool_calls)
            ],
            usage_metadata=usage_metadata(step),  # type: ignore[arg-type]
            response_metadata=self._metadata(step),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        index, step = self._next_step(kwargs.get("tools"))
        for piece in _PIECES.findall(step.content):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        for i, call in enumerate(step.tool_calls):
            chunk = ChatGenerationChunk(message=AIMessageChunk(
                content="",
                tool_call_chunks=[{
                    "name": call.name, "args": json.dumps(call.args, ensure_ascii=False),
                    "id": tool_call_id(index, i, call), "index": i, "type": "tool_call_chunk",
                }],
            ))
            if run_manager:
                run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk
        last = AIMessageChunk(content="", usage_metadata=usage_metadata(step),  # type: ignore[arg-type]
                              response_metadata=self._metadata(step))
        if "chunk_position" in AIMessageChunk.model_fields:
            last.chunk_position = "last"  # type: ignore[attr-defined]
        yield ChatGenerationChunk(message=last)

    def _next_step(self, tools: list[dict[str, Any]] | None) -> tuple[int, ScriptStep]:
        with self._lock:
            if self._cursor >= len(self.steps):
                raise ReplayExhaustedError(
                    f"replay script {self.source} has {len(self.steps)} responses and the model "
                    f"was asked for response {self._cursor + 1}; record the session again or "
                    f"add lines to the script")
            index = self._cursor
            self._cursor += 1
        step = self.steps[index]
        if tools is not None and step.tool_calls:
            offered = {t.get("function", {}).get("name") for t in tools}
            for call in step.tool_calls:
                if call.name not in offered:
                    names = ", ".join(sorted(map(str, offered))) or "none"
                    raise ReplayScriptError(
                        f"{self.source}: response {index + 1} calls tool '{call.name}', which the "
                        f"model was not given (tools: {names})")
        return index, step

    @staticmethod
    def _metadata(step: ScriptStep) -> dict[str, Any]:
        return {
            "model_name": step.model or "replay",
            "finish_reason": "tool_calls" if step.tool_calls else "stop",
        }
