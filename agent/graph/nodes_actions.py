"""The nodes that act: approve (a langgraph interrupt when the policy asks) and execute."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.types import interrupt

from agent.events import (
    ApprovalGiven, CommandFinished, EditSetApplied, EditSetFailed, Notice, TestRunFinished,
    ToolCallFinished, ToolCallStarted,
)
from agent.graph.actions import approval_requests
from agent.graph.deps import LoopDeps, emit, event_sink
from agent.graph.edit_flow import EditRejected, apply, without_hunks
from agent.graph.nodes_model import refresh_context
from agent.graph.state import AgentState
from agent.memory import MemoryStoreError
from agent.policy import needs_approval
from agent.prompts import render
from agent.tools.commands import run_command
from agent.tools.paths import ToolInputError
from agent.tools.test_runs import TestOutcome

SHORT = 400


def test_event(outcome: TestOutcome) -> TestRunFinished:
    report = outcome.report
    return TestRunFinished(
        command=outcome.command, scope=outcome.scope, ok=outcome.state != "red",
        passed=report.count("passed") if report else 0,
        failed=list(report.failed) if report else [], errored=list(report.errored) if report else [],
        headline=report.headline() if report else outcome.text, excerpt=outcome.text)


class ActionNodes:
    def __init__(self, deps: LoopDeps) -> None:
        self.deps = deps

    def approve(self, state: AgentState) -> dict[str, Any]:
        """Rule on each pending action; pause at an interrupt for the first one the user must
        answer. A node run that recorded automatic approvals returns before interrupting, so
        a resumed run never repeats their events."""
        decisions = dict(state.get("decisions", {}))
        policy = self.deps.policy_override or state["policy"]
        recorded = False
        for req in approval_requests(state.get("pending")):
            if req.request_id in decisions:
                continue
            if not needs_approval(policy, req.kind):  # type: ignore[arg-type]
                decisions[req.request_id] = {"approved": True, "by": "policy", "note": ""}
                emit(ApprovalGiven(request_id=req.request_id, kind=req.kind, approved=True,
                                   by="policy", policy=policy,
                                   note=f"approved automatically by the {policy} policy"))
                recorded = True
                continue
            if recorded:
                break
            answer = interrupt(req.payload())
            answer = answer if isinstance(answer, dict) else {"approved": bool(answer)}
            decisions[req.request_id] = {"approved": bool(answer.get("approved")), "by": "user",
                                         "note": str(answer.get("note") or ""),
                                         "rejected_hunks": dict(answer.get("rejected_hunks") or {})}
            break
        update: dict[str, Any] = {"decisions": decisions}
        if policy != state["policy"]:
            update["policy"] = policy  # the override given on resume sticks to the session
        return update

    async def execute(self, state: AgentState) -> dict[str, Any]:
        pending = state.get("pending") or {}
        decisions = state.get("decisions", {})
        results: dict[str, str] = {}
        feedback: list[str] = []
        update: dict[str, Any] = {}
        for bad in pending.get("invalid", []):
            results[bad["id"]] = f"error: {bad['error']}"
        for call in pending.get("reads", []):
            results[call["id"]] = self._read(call)
        edit = pending.get("edit")
        if edit is not None:
            text = self._edit(state, edit, decisions.get(edit["id"], {}), update)
            for call_id in edit["call_ids"]:
                results[call_id] = text if call_id == edit["call_ids"][0] else "(see the first edit call)"
            if edit["from_text"]:
                feedback.append(text)
        for call in pending.get("memory", []):
            results[call["id"]] = self._remember(state, call, decisions.get(call["id"], {}))
        for call in pending.get("commands", []):
            results[call["id"]] = await self._command(call, decisions.get(call["id"], {}), update)
        for call in pending.get("tests", []):
            outcome = await self.deps.tests.run(list(call["args"].get("ids") or []), "suite",
                                                sink=event_sink())
            emit(test_event(outcome))
            results[call["id"]] = outcome.text
        points = update.pop("command_points", [])
        if points:
            update["undo_points"] = [*update.get("undo_points", state.get("undo_points", [])), *points]
        turns = list(state.get("messages", []))
        for item in pending.get("order", []):
            text = self._clip(results.get(item["id"], "not run"))
            turns.append(ToolMessage(content=text, tool_call_id=item["id"], name=item["name"]))
        if feedback:
            turns.append(HumanMessage("\n\n".join(feedback)))
        return {"messages": turns, "pending": None, **update}

    # -- one kind of action each ---------------------------------------------------------------

    def _read(self, call: dict[str, Any]) -> str:
        emit(ToolCallStarted(call_id=call["id"], name=call["name"], args=call["args"]))
        try:
            output, ok = getattr(self.deps.reads, call["name"])(**call["args"]), True
        except (ToolInputError, OSError) as exc:
            output, ok = f"error: {exc}", False
        emit(ToolCallFinished(call_id=call["id"], name=call["name"], ok=ok,
                              output=self._clip(output)[:SHORT]))
        return output

    def _edit(self, state: AgentState, edit: dict[str, Any], decision: dict[str, Any],
              update: dict[str, Any]) -> str:
        if edit["failures"]:
            return render("edits_failed", failures=edit["failures"])
        if not decision.get("approved"):
            update["rejected"] = state.get("rejected", 0) + 1
            return render("edits_rejected", note=decision.get("note", ""))
        left_out: list[str] = []
        if decision.get("rejected_hunks"):
            trimmed, left_out = without_hunks(edit, decision["rejected_hunks"])
            if trimmed is None:  # every hunk rejected: the same as declining the set
                update["rejected"] = state.get("rejected", 0) + 1
                return render("edits_rejected", note=decision.get("note", ""))
            edit = trimmed
        try:
            applied = apply(self.deps.root, edit, self.deps.undo, self.deps.secret_patterns)
        except EditRejected as exc:
            emit(EditSetFailed(edit_set_id=edit["id"], reason=str(exc), failures=exc.failures,
                               rolled_back=True))
            return render("edits_failed", failures=[str(exc), *exc.failures[1:]])
        point = applied.undo_point_id or ""
        emit(EditSetApplied(edit_set_id=edit["id"], files=applied.files, undo_point=point))
        update.update(refresh_context(self.deps, state["task"]))
        update.update(
            applied_this_step=True, edits_applied=state.get("edits_applied", 0) + 1,
            files_changed=list(dict.fromkeys([*state.get("files_changed", []), *applied.files])),
            undo_points=[*state.get("undo_points", []), *([point] if point else [])],
            last_edit_files=applied.files, last_edit_description=edit["description"],
            repeats={}, idle_steps=0)
        text = render("edits_applied", files=applied.files, notes=edit["notes"])
        if left_out:
            text += "\n\n" + render("hunks_rejected", hunks=left_out, note=decision.get("note", ""))
        return text

    def _remember(self, state: AgentState, call: dict[str, Any], decision: dict[str, Any]) -> str:
        emit(ToolCallStarted(call_id=call["id"], name="remember", args=call["args"]))
        if not decision.get("approved"):
            output, ok = "the user declined to store this memory", False
        elif self.deps.memory is None:
            output, ok = "memory is turned off for this project", False
        else:
            try:
                entry = self.deps.memory.remember(
                    str(call["args"]["text"]), str(call["args"].get("kind") or "fact"),
                    source=f"session:{state['session_id']}", confidence=0.8)
                output, ok = f"remembered as memory #{entry.id}", True
            except MemoryStoreError as exc:
                output, ok = f"error: {exc}", False
        emit(ToolCallFinished(call_id=call["id"], name="remember", ok=ok, output=output))
        return output

    async def _command(self, call: dict[str, Any], decision: dict[str, Any],
                       update: dict[str, Any]) -> str:
        command = str(call["args"].get("command", ""))
        if not decision.get("approved"):
            return render("command_rejected", command=command, note=decision.get("note", ""))
        emit(ToolCallStarted(call_id=call["id"], name="run_command", args=call["args"]))
        timeout = float(call["args"].get("timeout_s") or self.deps.agent.command_timeout_s)
        outcome = await run_command(self.deps.sandbox, self.deps.root, self.deps.undo, command,
                                    min(timeout, self.deps.agent.command_timeout_s))
        emit(CommandFinished(command=command, exit_code=outcome.exit_code, summary=outcome.summary,
                             undo_point=outcome.undo_point))
        emit(ToolCallFinished(call_id=call["id"], name="run_command", ok=outcome.exit_code == 0,
                              output=outcome.text[:SHORT]))
        update["repeats"] = {}  # a command may change the tree: repeating a read is fine now
        update["command_points"] = [*update.get("command_points", []), outcome.undo_point]
        if outcome.exit_code != 0 and outcome.exit_code != -1:
            emit(Notice(level="info", text=f"command exited {outcome.exit_code}: {command}"))
        return outcome.text

    def _clip(self, text: str) -> str:
        limit = self.deps.agent.tool_output_chars
        if len(text) <= limit:
            return text
        return text[:limit] + f"\n... ({len(text) - limit} more characters cut; read a smaller range)"
