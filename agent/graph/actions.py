"""From one model answer to the actions it asks for, and the approvals those need."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage
from pydantic import ValidationError

from agent.context.compaction import content_text as message_text
from agent.edits import FileChange
from agent.graph.edit_flow import (
    EDIT_TOOLS,
    changes_of,
    diff_text,
    hunk_counts,
    propose,
)
from agent.policy import ActionKind
from agent.tools.catalog import TOOLS, validate_args


@dataclass(frozen=True)
class ApprovalRequest:
    request_id: str
    kind: ActionKind
    summary: str
    detail: str
    edit_set_id: str = ""
    changes: list[FileChange] = field(default_factory=list)
    """For an edit set: its changes (their hunks may be rejected one by one)."""

    def payload(self) -> dict[str, Any]:
        """What the interrupt carries; ``hunks`` (per file) is for the session, not the event,
        and is only counted here, when a person is asked."""
        return {"request_id": self.request_id, "kind": self.kind, "summary": self.summary,
                "detail": self.detail, "edit_set_id": self.edit_set_id,
                "hunks": hunk_counts(self.changes)}


def classify(message: AIMessage, root: Path, step: int, secret_patterns: list[str]) -> dict[str, Any]:
    """The pending actions of ``message`` (plain data, stored in the state)."""
    pending: dict[str, Any] = {"reads": [], "edit": None, "commands": [], "tests": [],
                               "memory": [], "invalid": [], "order": []}
    edit_calls = []
    for call in message.tool_calls:
        call_id = call.get("id") or f"call_{step}_{len(pending['order'])}"
        name, args = call["name"], call.get("args") or {}
        pending["order"].append({"id": call_id, "name": name})
        spec = TOOLS.get(name)
        if spec is None:
            pending["invalid"].append({"id": call_id, "name": name,
                                       "error": f"unknown tool {name!r}; tools: {', '.join(TOOLS)}"})
            continue
        try:
            validate_args(name, args)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            pending["invalid"].append({"id": call_id, "name": name, "error": f"bad arguments: {problems}"})
            continue
        item = {"id": call_id, "name": name, "args": args}
        if name in EDIT_TOOLS:
            edit_calls.append(item)
        else:
            bucket = {"read": "reads", "tests": "tests", "command": "commands", "memory": "memory"}[spec.kind]
            pending[bucket].append(item)
    for bad in message.invalid_tool_calls:
        call_id = bad.get("id") or f"call_{step}_{len(pending['order'])}"
        pending["order"].append({"id": call_id, "name": bad.get("name") or "tool"})
        pending["invalid"].append({"id": call_id, "name": bad.get("name") or "tool",
                                   "error": f"arguments are not valid JSON: {bad.get('error') or ''}"})
    proposed = propose(root, message_text(message), edit_calls, secret_patterns)
    if not proposed.empty:
        description = _describe(message_text(message))
        pending["edit"] = proposed.to_state(f"{step}-edit", description)
    return pending


def is_empty(pending: dict[str, Any] | None) -> bool:
    """No action at all: the model considers the task done."""
    return not pending or not (pending["order"] or pending["edit"])


def approval_requests(pending: dict[str, Any] | None) -> list[ApprovalRequest]:
    """Every action of ``pending`` that the policy must rule on, in a stable order."""
    if not pending:
        return []
    out: list[ApprovalRequest] = []
    edit = pending.get("edit")
    if edit and edit["changes"] and not edit["failures"]:
        changes = changes_of(edit)
        summary = f"apply edits to {len(changes)} file(s): " + ", ".join(c.path for c in changes)
        out.append(ApprovalRequest(edit["id"], "edit", summary, diff_text(changes),
                                   edit_set_id=edit["id"], changes=changes))
    for cmd in pending.get("commands", []):
        command = str(cmd["args"].get("command", ""))
        out.append(ApprovalRequest(f"{cmd['id']}", "command", f"run: {command}", command))
    for mem in pending.get("memory", []):
        text = str(mem["args"].get("text", ""))
        out.append(ApprovalRequest(f"{mem['id']}", "memory", f"remember: {text[:100]}", text))
    return out


def _describe(text: str) -> str:
    """A one-line description of an edit set: the answer's first line of prose."""
    for line in text.splitlines():
        line = line.strip().strip("#*").strip()
        looks_like_path = " " not in line and ("." in line or "/" in line)
        if line and not looks_like_path and not line.startswith(("```", "<<<<<<<", "=======", ">>>>>>>")):
            return line[:120]
    return "edits by Engram"
