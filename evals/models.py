"""Build the HumanEval generator for ``--model REF``: the local engine directly (batched),
or any chat model ``runtime.llm`` builds (hosted, a model server, ``replay:FILE``)."""

from __future__ import annotations

from typing import Any

from evals.errors import EvalError
from evals.humaneval.generate import (
    ChatModelGenerator,
    EngineGenerator,
    Generator,
    SamplingConfig,
)
from evals.humaneval.prompting import PromptStyle
from runtime.llm.settings import ModelSettings


def build_generator(ref: str, base: ModelSettings, style: PromptStyle, sampling: SamplingConfig,
                    *, batch: int = 32, device: str = "auto") -> Generator:
    """The generator for ``ref``; ``batch`` is how many sequences the local engine decodes
    together (or how many requests a remote model gets at once)."""
    from runtime.llm import LLMError, make_chat_model, parse_model_ref

    try:
        settings = parse_model_ref(ref, base)
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    if settings.provider == "local":
        return EngineGenerator(_load_engine(settings.model, sampling, batch, device), style,
                               sampling, name=f"local:{settings.model}")
    if style == "completion":
        raise EvalError("completion-style prompts need raw text continuation, which only the "
                        "local engine offers here; use --prompt chat with "
                        f"{settings.provider}:{settings.model}")
    settings = settings.model_copy(update={"temperature": sampling.temperature,
                                           "max_output_tokens": sampling.max_tokens,
                                           "fallback_to_local": False})
    try:
        chat = make_chat_model(settings)
    except (LLMError, OSError) as exc:
        raise EvalError(str(exc)) from None
    return ChatModelGenerator(chat, sampling, name=f"{settings.provider}:{settings.model}",
                              concurrency=batch)


def _load_engine(ref: str, sampling: SamplingConfig, batch: int, device: str) -> Any:
    from runtime.engine.engine import Engine
    from runtime.engine.errors import EngineError
    from runtime.engine.settings import EngineSettings

    # Most HumanEval prompts are < 512 tokens with the chat wrapper; the scheduler preempts
    # and recomputes when a long one needs more than its share.
    per_sequence = 512 + sampling.max_tokens
    # sparse_budget=0: HumanEval sequences are far below the sparse threshold, so attention
    # is dense either way; this only skips keeping block summaries nobody reads.
    settings = EngineSettings(device=device, max_num_seqs=batch, sparse_budget=0,
                              kv_cache_tokens=batch * per_sequence,
                              max_num_batched_tokens=max(512, min(4096, batch * 64)))
    try:
        return Engine.load(ref, settings)
    except EngineError as exc:
        hint = " (pull it first: engram model pull smollm2)" if ref == "smollm2" else ""
        raise EvalError(f"cannot load local model {ref!r}: {exc}{hint}") from None
