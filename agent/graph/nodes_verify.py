"""The nodes after an edit set lands: test, repair (bounded), finish, learn."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage

from agent.events import Notice
from agent.gitops import GitError, commit_task
from agent.graph.deps import LoopDeps, emit, event_sink
from agent.graph.nodes_actions import test_event
from agent.graph.state import AgentState
from agent.learn import learn_from_task
from agent.prompts import render

_GREEN_NOTE = ("Edits applied and {what}. If the task is complete, reply with a short summary "
               "and no tool calls or edits; otherwise continue.")


class VerifyNodes:
    def __init__(self, deps: LoopDeps) -> None:
        self.deps = deps

    async def test(self, state: AgentState) -> dict[str, Any]:
        files = [f.path for f in self.deps.index.files()]
        outcomes = await self.deps.tests.after_edits(state.get("last_edit_files", []), files,
                                                     self.deps.agent.targeted_tests_first,
                                                     sink=event_sink())
        for outcome in outcomes:
            emit(test_event(outcome))
        last = outcomes[-1]
        before = state.get("failing", [])
        update: dict[str, Any] = {"tests": last.state, "failing": last.failing,
                                  "applied_this_step": False}
        if last.command and last.scope == "suite":  # a targeted command is not the project's
            update["test_command"] = last.command
        if last.state == "red" and len(last.failing) < len(before):
            update["idle_steps"] = 0  # fewer failures: progress
        if state.get("tests") == "red" and last.state == "green" and before:
            update["learned"] = [*state.get("learned", []), {
                "failing": before[:5], "fixed_files": state.get("last_edit_files", []),
                "description": state.get("last_edit_description", ""),
                "failure_text": state.get("last_failure_text", "")}]
        turns = list(state.get("messages", []))
        if last.state == "red":
            update["last_failure_text"] = last.text[:600]
        else:
            what = "the tests pass" if last.state == "green" else "the project has no tests to run"
            turns.append(HumanMessage(_GREEN_NOTE.format(what=what)))
        update["messages"] = turns
        return update

    async def repair(self, state: AgentState) -> dict[str, Any]:
        attempt = state.get("repairs", 0) + 1
        limit = self.deps.agent.max_repairs
        if attempt > limit:
            return {"stop_status": "failed",
                    "stop_reason": f"tests still failing after {limit} repair attempts: "
                                   f"{', '.join(state.get('failing', [])[:5]) or 'see the test output'}"}
        text = render("tests_failed", headline=_headline(state), attempt=attempt, max_repairs=limit,
                      report=state.get("last_failure_text", ""))
        return {"repairs": attempt, "messages": [*state.get("messages", []), HumanMessage(text)]}

    async def finish(self, state: AgentState) -> dict[str, Any]:
        status, reason = outcome_of(state)
        update: dict[str, Any] = {"status": status, "reason": reason}
        if status == "success" and state.get("commit"):
            try:
                sha = commit_task(self.deps.root, state)
            except GitError as exc:
                emit(Notice(level="warning", text=f"not committed: {exc}"))
            else:
                update["commit_sha"] = sha
                if sha:
                    emit(Notice(text=f"committed {sha[:12]}"))
        return update

    async def learn(self, state: AgentState) -> dict[str, Any]:
        if not self.deps.agent.learn or self.deps.memory is None:
            return {}
        for line in learn_from_task(self.deps.memory, state):
            emit(Notice(text=f"remembered: {line}"))
        return {}


def _headline(state: AgentState) -> str:
    failing = state.get("failing", [])
    return f"{len(failing)} failing" if failing else "the run failed"


def outcome_of(state: AgentState) -> tuple[str, str]:
    """The final status and its reason, from what the task did."""
    tests, applied = state.get("tests", "not_run"), state.get("edits_applied", 0)
    if state.get("stop_status"):
        return state["stop_status"], state.get("stop_reason", "")
    if applied == 0:
        if state.get("rejected"):
            return "rejected", "the user declined the proposed edits; nothing was changed"
        return "failed", "the model finished without applying any edit"
    if tests == "green":
        return "success", f"{applied} edit set(s) applied and the tests pass"
    if tests == "none":
        return "success", f"{applied} edit set(s) applied; the project has no tests to run"
    return "failed", "the model stopped while the tests still fail"
