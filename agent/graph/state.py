"""The loop's state: everything a resumed process needs, checkpointed after every node.

Values are plain data (strings, numbers, lists, dicts) and LangChain messages, which the
checkpointer serializes without custom types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from langchain_core.messages import BaseMessage


class AgentState(TypedDict, total=False):
    session_id: str
    task: str
    policy: str
    branch: str | None
    commit: bool
    # context
    mode: str
    context: str
    context_tokens: int
    context_files: list[str]
    conventions: list[str]
    memories: list[str]
    pinned: list[str]
    """Paths the user pinned, as given (checked when the context is gathered)."""
    pinned_files: list[str]
    """The pinned paths that passed the checks, repository-relative: in every prompt."""
    plan: str
    # conversation (turns after the task message; the prompt head is rebuilt every call)
    messages: list[BaseMessage]
    summary: str
    # counters and budgets
    steps: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    prompt_tokens: int
    repeats: dict[str, int]
    idle_steps: int
    repairs: int
    # the actions of the last answer: reads, an edit set, commands, tests, memory writes
    pending: dict[str, Any] | None
    decisions: dict[str, dict[str, Any]]
    applied_this_step: bool
    rejected: int
    last_edit_files: list[str]
    last_edit_description: str
    # outcome so far
    edits_applied: int
    files_changed: list[str]
    undo_points: list[str]
    tests: str
    failing: list[str]
    last_failure_text: str
    test_command: str
    learned: list[dict[str, Any]]
    """Events worth remembering: a failure and the edit that fixed it."""
    stop_status: str
    stop_reason: str
    status: str
    reason: str
    commit_sha: str | None


def initial_state(session_id: str, task: str, policy: str, branch: str | None,
                  commit: bool, pinned: Sequence[str] = ()) -> AgentState:
    return AgentState(
        session_id=session_id, task=task, policy=policy, branch=branch, commit=commit,
        mode="", context="", context_tokens=0, context_files=[], conventions=[], memories=[],
        pinned=[str(p) for p in pinned], pinned_files=[],
        plan="", messages=[], summary="", steps=0, input_tokens=0, output_tokens=0,
        cost_usd=0.0, prompt_tokens=0, repeats={}, idle_steps=0, repairs=0, pending=None,
        decisions={}, applied_this_step=False, rejected=0, last_edit_files=[],
        last_edit_description="", edits_applied=0, files_changed=[],
        undo_points=[], tests="not_run", failing=[], last_failure_text="", test_command="", learned=[],
        stop_status="", stop_reason="", status="", reason="", commit_sha=None,
    )
