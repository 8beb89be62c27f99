"""The nodes that talk to the model: gather context, plan, and act (one step of the loop)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from agent.budget import StopTask, check_budget, check_loop, count_repeats
from agent.context import PromptParts, assemble, build_repo_context, gather_memory
from agent.context.pinned import check_pins, read_pinned
from agent.context.prompt import system_text
from agent.context.compaction import Compactor, compact_prompt, content_text, digest
from agent.events import (
    AssistantMessage, ContextReady, EditSetFailed, EditSetProposed, Notice, PlanReady, TokenUsage,
)
from agent.graph.actions import classify
from agent.graph.deps import LoopDeps, ModelReply, call_model, emit
from agent.graph.edit_flow import changes_of, file_diffs
from agent.graph.state import AgentState
from agent.prompts import render

_PLAN_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.*\S)")
MAX_PLAN_ITEMS = 8


def prompt_parts(deps: LoopDeps, state: AgentState, summary: str | None = None) -> PromptParts:
    return PromptParts(
        repo_name=deps.root.name, task=state["task"], mode=state["mode"], context=state["context"],
        plan=state.get("plan", ""), conventions=state.get("conventions", []),
        memories=state.get("memories", []),
        summary=state.get("summary", "") if summary is None else summary,
        pinned=read_pinned(deps.root, _pins_to_show(state), deps.secret_patterns))


def _pins_to_show(state: AgentState) -> list[str]:
    """Pinned files, less those the whole-repo context already shows in full."""
    pins = state.get("pinned_files", [])
    if not pins or state.get("mode") != "whole-repo":
        return list(pins)
    shown = set(state.get("context_files", []))
    return [p for p in pins if p not in shown]


def usage_update(state: AgentState, reply: ModelReply) -> dict[str, Any]:
    """State counters after ``reply``, and the usage event."""
    totals = {
        "input_tokens": state.get("input_tokens", 0) + reply.input_tokens,
        "output_tokens": state.get("output_tokens", 0) + reply.output_tokens,
        "cost_usd": state.get("cost_usd", 0.0) + reply.cost_usd,
        "prompt_tokens": state.get("prompt_tokens", 0) + reply.prompt_tokens,
    }
    emit(TokenUsage(input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                    cost_usd=reply.cost_usd, total_input_tokens=totals["input_tokens"],
                    total_output_tokens=totals["output_tokens"], total_cost_usd=totals["cost_usd"],
                    prompt_tokens=reply.prompt_tokens))
    return totals


def refresh_context(deps: LoopDeps, task: str) -> dict[str, Any]:
    """Re-read the repository (incrementally) and rebuild its part of the prompt."""
    deps.index.refresh()
    repo = build_repo_context(deps.index, task, deps.window, deps.agent)
    return {"mode": repo.mode, "context": repo.text, "context_tokens": repo.tokens,
            "context_files": repo.files}


def _assemble(deps: LoopDeps, state: AgentState, turns: list[BaseMessage], *,
              summary: str | None = None, extra: str | None = None) -> list[BaseMessage]:
    """The prompt, with the system message's count primed from the indexer's exact count of
    the repository part (so a large whole-repo context is not tokenized again)."""
    parts = prompt_parts(deps, state, summary)
    messages = assemble(parts, turns, extra=extra)
    if state.get("context_tokens"):
        frame = system_text(PromptParts(**{**parts.__dict__, "context": ""}))
        deps.tally.prime(str(messages[0].content),
                         deps.tally.count_text(frame) + int(state["context_tokens"]))
    return messages


class ModelNodes:
    def __init__(self, deps: LoopDeps) -> None:
        self.deps = deps

    async def gather_context(self, state: AgentState) -> dict[str, Any]:
        update = refresh_context(self.deps, state["task"])
        memory = gather_memory(self.deps.memory, state["task"], self.deps.recall_tokens)
        # a pinned file may take at most about a quarter of the window (~4 characters a token)
        pins = check_pins(self.deps.root, state.get("pinned", []), self.deps.secret_patterns,
                          max_chars=self.deps.window)
        for warning in [*memory.warnings, *pins.warnings]:
            emit(Notice(level="warning", text=warning))
        emit(ContextReady(mode=update["mode"], context_tokens=update["context_tokens"],
                          files=update["context_files"], memories=len(memory.memories),
                          conventions=len(memory.conventions), window=self.deps.window,
                          pinned=pins.pinned))
        return {**update, "conventions": memory.conventions, "memories": memory.memories,
                "pinned_files": pins.pinned}

    async def plan(self, state: AgentState) -> dict[str, Any]:
        try:
            self._check_budget(state)
        except StopTask as stop:
            return {"stop_status": "stopped", "stop_reason": str(stop)}
        messages = _assemble(self.deps, state, [], extra=render("plan", max_items=MAX_PLAN_ITEMS))
        reply = await call_model(self.deps, self.deps.chat, messages)
        text = content_text(reply.message).strip()
        steps = [m.group(1) for line in text.splitlines() if (m := _PLAN_ITEM.match(line))]
        emit(PlanReady(text=text, steps=steps[:MAX_PLAN_ITEMS * 2]))
        return {"plan": text, "steps": state.get("steps", 0) + 1, **usage_update(state, reply)}

    async def act(self, state: AgentState) -> dict[str, Any]:
        try:
            self._check_budget(state)
            check_loop(self.deps.agent, repeats=state.get("repeats", {}),
                       idle_steps=state.get("idle_steps", 0))
        except StopTask as stop:
            return {"stop_status": "stopped", "stop_reason": str(stop)}
        turns, summary, usage = await self._compacted(state)
        step = state.get("steps", 0) + 1
        messages = _assemble(self.deps, state, turns, summary=summary)
        reply = await call_model(self.deps, self.deps.tools_chat, messages)
        ai = reply.message
        emit(AssistantMessage(text=content_text(ai), step=step))
        pending = classify(ai, self.deps.root, step, self.deps.secret_patterns)
        edit = pending["edit"]
        if edit is not None and edit["failures"]:
            emit(EditSetFailed(edit_set_id=edit["id"], reason="the edits do not apply as written",
                               failures=edit["failures"], rolled_back=False))
        elif edit is not None:
            emit(EditSetProposed(edit_set_id=edit["id"], description=edit["description"],
                                 files=file_diffs(changes_of(edit)), notes=edit["notes"]))
        calls = [(c["name"], c.get("args") or {}) for c in ai.tool_calls]
        counters = usage_update({**state, **usage}, reply)
        return {
            "messages": [*turns, ai], "summary": summary, "steps": step, **counters,
            "pending": pending, "decisions": {}, "applied_this_step": False,
            "repeats": count_repeats(state.get("repeats", {}), calls),
            "idle_steps": state.get("idle_steps", 0) + 1,
        }

    def _check_budget(self, state: AgentState) -> None:
        check_budget(self.deps.agent, steps=state.get("steps", 0),
                     tokens=state.get("input_tokens", 0) + state.get("output_tokens", 0),
                     cost_usd=state.get("cost_usd", 0.0))

    async def _compacted(self, state: AgentState) -> tuple[list[BaseMessage], str, dict[str, Any]]:
        """The turns to send, compacting old ones into the summary when the prompt is too big."""
        turns = list(state.get("messages", []))
        summary = state.get("summary", "")
        compactor = Compactor(self.deps.tally, self.deps.window, self.deps.agent.compact_at,
                              self.deps.agent.keep_recent_messages)
        if not compactor.needs(_assemble(self.deps, state, turns)):
            return turns, summary, {}
        old, kept = compactor.split(turns)
        if not old:
            return turns, summary, {}
        usage: dict[str, Any] = {}
        new_summary = ""
        if self.deps.agent.compaction == "model":
            try:
                reply = await call_model(self.deps, self.deps.chat,
                                         [HumanMessage(compact_prompt(old, summary))], stream=False)
                new_summary = content_text(reply.message).strip()
                usage = usage_update(state, reply)
            except Exception as exc:  # a summary is a convenience: fall back to the digest
                emit(Notice(level="warning", text=f"summarizing with the model failed ({exc}); "
                                                  f"using a digest of the old turns"))
        if not new_summary:
            new_summary = "\n".join(x for x in (summary, digest(old)) if x)
        emit(Notice(text=f"compacted {len(old)} older messages into a summary; the task, plan "
                         f"and conventions are kept in full"))
        return kept, new_summary, usage
