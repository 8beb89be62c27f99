"""Wrap any chat model and write its answers as a replay script."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr

from runtime.llm.replay_script import ScriptStep, step_from_message, write_script


class RecordingChatModel(BaseChatModel):
    """Delegates every call to ``inner`` and appends its answer to the script at ``path``.

    The file is rewritten atomically after each call, so it always holds whole lines.
    """

    inner: BaseChatModel
    path: Path
    _steps: list[ScriptStep] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "engram-recorder"

    @property
    def steps(self) -> list[ScriptStep]:
        """What has been recorded so far."""
        with self._lock:
            return list(self._steps)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way ``inner`` formats them, so its requests are unchanged."""
        bound = self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        bound_kwargs = getattr(bound, "kwargs", None)
        if not isinstance(bound_kwargs, dict):
            raise TypeError(f"{type(self.inner).__name__}.bind_tools returned no bound arguments")
        return self.bind(**bound_kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = self.inner._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        self._record(result)
        return result

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = await self.inner._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)
        self._record(result)
        return result

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        merged: ChatGenerationChunk | None = None
        for chunk in self.inner._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            merged = chunk if merged is None else merged + chunk
            yield chunk
        if merged is not None:
            self._record_message(merged.message)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        merged: ChatGenerationChunk | None = None
        async for chunk in self.inner._astream(messages, stop=stop, run_manager=run_manager,
                                               **kwargs):
            merged = chunk if merged is None else merged + chunk
            yield chunk
        if merged is not None:
            self._record_message(merged.message)

    def _record(self, result: ChatResult) -> None:
        if result.generations:
            self._record_message(result.generations[0].message)

    def _record_message(self, message: BaseMessage) -> None:
        if not isinstance(message, AIMessage):
            return
        step = step_from_message(message)
        with self._lock:
            self._steps.append(step)
            write_script(self.path, self._steps)


def record_to(model: BaseChatModel, path: str | Path) -> RecordingChatModel:
    """Wrap ``model`` so that every answer is written to the replay script at ``path``."""
    return RecordingChatModel(inner=model, path=Path(path).expanduser())
