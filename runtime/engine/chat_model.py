"""``EngineChatModel``: the local engine as a LangChain chat model (what langgraph speaks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, PrivateAttr

from runtime.engine.engine import Engine
from runtime.engine.engine_loop import EngineLoop
from runtime.engine.errors import EngineError
from runtime.engine.sampling import SamplingParams
from runtime.engine.settings import EngineSettings
from runtime.engine.tool_calls import ToolCallStreamSplitter, parse_tool_calls, tool_call_messages_for_template

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def to_template_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages -> OpenAI-style dicts for the chat template."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        content = msg.content if isinstance(msg.content, str) else "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in msg.content
        )
        item: dict[str, Any] = {"role": _ROLES.get(msg.type, "user"), "content": content}
        if isinstance(msg, AIMessage) and msg.tool_calls:
            item["tool_calls"] = [
                {"id": c.get("id"), "type": "function", "function": {"name": c["name"], "arguments": c["args"]}}
                for c in msg.tool_calls
            ]
        if isinstance(msg, ToolMessage):
            item["tool_call_id"] = msg.tool_call_id
        out.append(tool_call_messages_for_template(item))
    return out


class EngineChatModel(BaseChatModel):
    """Chat with a model running in this process on the local engine."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_ref: str
    """GGUF path, Hugging Face folder, or pulled model name (``smollm2``)."""
    temperature: float = 0.0
    max_tokens: int = 1024
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: list[str] | None = None

    _loop: EngineLoop = PrivateAttr()

    @classmethod
    def from_model_ref(cls, ref: str, **kwargs: Any) -> EngineChatModel:
        """Load ``ref`` and start its engine; engine settings (``device``, ``dtype``, ...) may be passed too."""
        engine_keys = set(EngineSettings.model_fields)
        settings = EngineSettings(**{k: kwargs.pop(k) for k in list(kwargs) if k in engine_keys})
        kwargs.pop("model", None)
        return cls.from_engine(Engine.load(ref, settings), model_ref=ref, **kwargs)

    @classmethod
    def from_engine(cls, engine: Engine | EngineLoop, **kwargs: Any) -> EngineChatModel:
        """Wrap an already loaded engine (or a running loop shared with other users)."""
        loop = engine if isinstance(engine, EngineLoop) else EngineLoop(engine).start()
        kwargs.setdefault("model_ref", loop.engine.name)
        model = cls(**kwargs)
        model._loop = loop
        return model

    @property
    def _llm_type(self) -> str:
        return "engram-engine"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_ref": self.model_ref, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable | BaseTool], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _prompt_ids(self, messages: list[BaseMessage], tools: list[dict[str, Any]] | None) -> list[int]:
        engine = self._loop.engine
        text = engine.chat_template.render(to_template_messages(messages), tools=tools)
        return engine.tokenizer.encode(text, add_special_tokens=False)

    def _params(self, stop: list[str] | None, **kwargs: Any) -> SamplingParams:
        return SamplingParams(
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            temperature=kwargs.get("temperature", self.temperature),
            top_p=kwargs.get("top_p", self.top_p), top_k=kwargs.get("top_k", self.top_k),
            repetition_penalty=kwargs.get("repetition_penalty", self.repetition_penalty),
            seed=kwargs.get("seed", self.seed), stop=list(stop or self.stop or []),
        )

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        chunks = list(self._stream(messages, stop=stop, run_manager=None, **kwargs))
        message: AIMessageChunk = chunks[0].message  # type: ignore[assignment]
        for chunk in chunks[1:]:
            message = message + chunk.message  # type: ignore[assignment]
        ai = AIMessage(
            content=message.content, tool_calls=message.tool_calls,
            usage_metadata=message.usage_metadata, response_metadata=message.response_metadata,
        )
        return ChatResult(generations=[ChatGeneration(message=ai)])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        tools = kwargs.get("tools")
        splitter = ToolCallStreamSplitter() if tools else None
        ids = self._prompt_ids(messages, tools)
        last = None
        for out in self._loop.iterate(ids, self._params(stop, **kwargs)):
            if out.error:
                raise EngineError(out.error)
            last = out
            text = splitter.feed(out.text) if splitter else out.text
            if text:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        calls = []
        tail = ""
        if splitter:
            tail, calls = splitter.finish()
        usage = {
            "input_tokens": last.prompt_tokens if last else len(ids),
            "output_tokens": last.completion_tokens if last else 0,
            "total_tokens": (last.prompt_tokens + last.completion_tokens) if last else len(ids),
        }
        final = AIMessageChunk(
            content=tail,
            tool_call_chunks=[
                tool_call_chunk(name=c.name, args=c.arguments, id=c.id, index=i) for i, c in enumerate(calls)
            ],
            usage_metadata=usage,  # type: ignore[arg-type]
            response_metadata={"finish_reason": "tool_calls" if calls else (last.finish_reason if last else "stop"),
                               "model_name": self.model_ref},
        )
        yield ChatGenerationChunk(message=final)


__all__ = ["EngineChatModel", "to_template_messages"]
