"""Token usage and cost, per call and per session, as a LangChain callback handler."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from runtime.llm.catalogue import find_model
from runtime.llm.resolve import ModelPrices


@dataclass(frozen=True)
class CallUsage:
    """One model call."""

    model: str
    input_tokens: int
    """All prompt tokens, the cached ones included."""
    output_tokens: int
    cached_tokens: int
    cost_usd: float
    priced: bool
    """False when no price was known for the model (the cost then reads 0)."""


@dataclass(frozen=True)
class UsageTotals:
    """Sums over a session."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Input plus output."""
        return self.input_tokens + self.output_tokens


class UsageTracker(BaseCallbackHandler):
    """Add to a model's callbacks (``config={"callbacks": [tracker]}``) to sum its usage.

    Prices come from ``prices`` when given (``ResolvedModel.prices``), otherwise from the
    catalogue entry of the model name each response reports.
    """

    def __init__(self, prices: ModelPrices | None = None) -> None:
        self.prices = prices
        self._calls: list[CallUsage] = []
        self._lock = threading.Lock()

    @property
    def calls(self) -> list[CallUsage]:
        """Every call so far, oldest first."""
        with self._lock:
            return list(self._calls)

    @property
    def totals(self) -> UsageTotals:
        """The session's sums."""
        with self._lock:
            calls = list(self._calls)
        return UsageTotals(
            calls=len(calls),
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cached_tokens=sum(c.cached_tokens for c in calls),
            cost_usd=sum(c.cost_usd for c in calls),
        )

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Record the usage of each answer in ``response``."""
        llm_output = response.llm_output or {}
        for generations in response.generations:
            for generation in generations:
                call = self._usage_of(generation, llm_output)
                if call is not None:
                    with self._lock:
                        self._calls.append(call)

    def _usage_of(self, generation: Any, llm_output: dict[str, Any]) -> CallUsage | None:
        message = generation.message if isinstance(generation, ChatGeneration) else None
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        model = ""
        if message is not None:
            model = str(message.response_metadata.get("model_name")
                        or message.response_metadata.get("model") or "")
        model = model or str(llm_output.get("model_name") or "")
        if usage:
            details = usage.get("input_token_details") or {}
            input_tokens = int(usage.get("input_tokens", 0))
            output_tokens = int(usage.get("output_tokens", 0))
            cached = int(details.get("cache_read", 0) or 0)
        else:
            # Older integrations report OpenAI's raw counters in llm_output only.
            raw = llm_output.get("token_usage") or {}
            if not raw:
                return None
            input_tokens = int(raw.get("prompt_tokens", 0))
            output_tokens = int(raw.get("completion_tokens", 0))
            cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0)
        prices = self.prices
        if prices is None and (info := find_model(model)) is not None:
            prices = ModelPrices(info.input_price, info.output_price, info.cached_input_price)
        cost = prices.cost(input_tokens, output_tokens, cached) if prices else 0.0
        return CallUsage(model=model, input_tokens=input_tokens, output_tokens=output_tokens,
                         cached_tokens=cached, cost_usd=cost, priced=prices is not None)
