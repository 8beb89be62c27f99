"""Budgets and loop detection: the reasons a task stops before it is done.

Control flow is typed exceptions (``BudgetExceeded``, ``LoopDetected``): the loop raises,
the graph turns the exception into a final status with the message as the reason.
The counters live in the graph state (checkpointed); these functions only read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from agent.settings import AgentSettings


class StopTask(Exception):
    """A condition that ends the task; the message is the user-facing reason."""

    code = "stopped"


class BudgetExceeded(StopTask):
    """Steps, tokens or cost ran out."""

    code = "budget_exhausted"


class LoopDetected(StopTask):
    """The model repeats itself or makes no progress."""

    code = "loop_detected"


def check_budget(settings: AgentSettings, *, steps: int, tokens: int, cost_usd: float) -> None:
    """Raise ``BudgetExceeded`` when the next model call would go over a budget."""
    if steps >= settings.max_steps:
        raise BudgetExceeded(f"step budget exhausted: {steps} of {settings.max_steps} model calls used")
    if tokens >= settings.max_tokens:
        raise BudgetExceeded(f"token budget exhausted: {tokens:,} of {settings.max_tokens:,} tokens used")
    if settings.max_cost_usd > 0 and cost_usd >= settings.max_cost_usd:
        raise BudgetExceeded(
            f"cost budget exhausted: ${cost_usd:.4f} of ${settings.max_cost_usd:.2f} spent")


def call_signature(name: str, args: Mapping[str, Any]) -> str:
    """A stable key for a tool call: its name and canonical JSON arguments."""
    return name + json.dumps(dict(args), sort_keys=True, ensure_ascii=False, default=str)


def count_repeats(seen: Mapping[str, int], calls: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, int]:
    """``seen`` updated with this step's calls (each signature counted once per step)."""
    out = dict(seen)
    for sig in {call_signature(n, a) for n, a in calls}:
        out[sig] = out.get(sig, 0) + 1
    return out


def check_loop(settings: AgentSettings, *, repeats: Mapping[str, int], idle_steps: int) -> None:
    """Raise ``LoopDetected`` for a repeated call or too many steps without progress."""
    for sig, count in repeats.items():
        if count >= settings.loop_repeat_limit:
            name, _, args = sig.partition("{")
            shown = ("{" + args)[:120]
            raise LoopDetected(
                f"loop detected: {name} was called {count} times with the same arguments "
                f"{shown} and nothing changed in between")
    if idle_steps >= settings.no_progress_steps:
        raise LoopDetected(
            f"no progress: {idle_steps} model calls in a row without an applied edit or a "
            f"newly passing test")
