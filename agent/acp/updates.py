"""Engram events -> ACP ``session/update`` payloads (message chunks, plan, tool calls, diffs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acp import (
    plan_entry, start_tool_call, text_block, tool_content, tool_diff_content,
    update_agent_message_text, update_agent_thought_text, update_plan, update_tool_call,
    update_user_message_text,
)
from acp.schema import ToolCallLocation

_KINDS = {"read_file": "read", "list_files": "search", "search_code": "search",
          "find_symbol": "search", "run_command": "execute", "run_tests": "execute",
          "remember": "other"}


class UpdateTranslator:
    """Turns one session's events into ACP updates; remembers what edit sets looked like
    before they were applied, so applied ones can be shown as real diffs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.old_texts: dict[str, dict[str, str | None]] = {}
        self.started: set[str] = set()

    def updates(self, event: dict[str, Any], *, replay: bool = False) -> list[Any]:
        """The updates for ``event`` (a JSON-ready event dict)."""
        kind = event.get("type")
        handler = getattr(self, f"_on_{kind}", None)
        return handler(event, replay) if handler is not None else []

    def new_texts(self, edit_set_id: str) -> dict[str, str | None]:
        """Files of an applied edit set as they are now (None: deleted)."""
        return {path: _read(self.root / path)
                for path in self.old_texts.get(edit_set_id, {})}

    # -- one method per event type ----------------------------------------------------------

    def _on_session_started(self, e: dict[str, Any], replay: bool) -> list[Any]:
        return [update_user_message_text(e["task"])] if replay and e.get("task") else []

    def _on_message_delta(self, e: dict[str, Any], replay: bool) -> list[Any]:
        return [update_agent_message_text(e["text"])]

    def _on_plan(self, e: dict[str, Any], replay: bool) -> list[Any]:
        steps = e.get("steps") or []
        if not steps:
            return [update_agent_thought_text(e.get("text", ""))]
        return [update_plan([plan_entry(s, priority="medium", status="pending") for s in steps])]

    def _on_notice(self, e: dict[str, Any], replay: bool) -> list[Any]:
        return [update_agent_thought_text(e["text"] + "\n")]

    def _on_tool_call(self, e: dict[str, Any], replay: bool) -> list[Any]:
        args = e.get("args") or {}
        path = args.get("path")
        self.started.add(e["call_id"])
        return [start_tool_call(
            e["call_id"], _title(e["name"], args), kind=_KINDS.get(e["name"], "fetch" if "." in e["name"] else "other"),  # type: ignore[arg-type]
            status="in_progress", raw_input=args,
            locations=[ToolCallLocation(path=str(self.root / path))] if isinstance(path, str) else None)]

    def _on_tool_result(self, e: dict[str, Any], replay: bool) -> list[Any]:
        return [update_tool_call(e["call_id"], status="completed" if e["ok"] else "failed",
                                 content=[tool_content(text_block(e.get("output", "")))])]

    def _on_edit_set(self, e: dict[str, Any], replay: bool) -> list[Any]:
        if not replay:
            self.old_texts[e["edit_set_id"]] = {f["path"]: _read(self.root / f["path"])
                                                for f in e["files"]}
        self.started.add(e["edit_set_id"])
        diff = "\n".join(f["diff"] for f in e["files"])
        return [start_tool_call(
            e["edit_set_id"], f"Edit: {e['description']}", kind="edit", status="pending",
            content=[tool_content(text_block(f"```diff\n{diff}\n```"))],
            locations=[ToolCallLocation(path=str(self.root / f["path"])) for f in e["files"]],
            raw_input={"files": [f["path"] for f in e["files"]]})]

    def _on_edit_applied(self, e: dict[str, Any], replay: bool) -> list[Any]:
        old = self.old_texts.get(e["edit_set_id"], {})
        content = []
        for path in e["files"]:
            new = _read(self.root / path)
            content.append(tool_diff_content(str(self.root / path), new or "", old.get(path)))
        return [update_tool_call(e["edit_set_id"], status="completed", content=content or None)]

    def _on_edit_failed(self, e: dict[str, Any], replay: bool) -> list[Any]:
        text = "\n".join([e["reason"], *e.get("failures", [])])
        if e["edit_set_id"] not in self.started:
            self.started.add(e["edit_set_id"])
            return [start_tool_call(e["edit_set_id"], "Edit (did not apply)", kind="edit",
                                    status="failed", content=[tool_content(text_block(text))])]
        return [update_tool_call(e["edit_set_id"], status="failed",
                                 content=[tool_content(text_block(text))])]

    def _on_approval_given(self, e: dict[str, Any], replay: bool) -> list[Any]:
        if e["approved"] or e["request_id"] not in self.started:
            return []
        note = f": {e['note']}" if e.get("note") else ""
        return [update_tool_call(e["request_id"], status="failed",
                                 content=[tool_content(text_block(f"declined{note}"))])]

    def _on_test_run(self, e: dict[str, Any], replay: bool) -> list[Any]:
        call_id = f"tests-{e.get('seq', 0)}"
        return [start_tool_call(call_id, f"Tests ({e['scope']}): {e['headline']}", kind="execute",
                                status="completed" if e["ok"] else "failed",
                                content=[tool_content(text_block(e.get("excerpt", "")))],
                                raw_input={"command": e["command"]})]

    def _on_finished(self, e: dict[str, Any], replay: bool) -> list[Any]:
        mark = "done" if e["status"] == "success" else e["status"]
        return [update_agent_message_text(f"\n\n[{mark}] {e['reason']}")]


def stop_reason(finished: dict[str, Any] | None) -> str:
    """The ACP stop reason of a task's ``finished`` event."""
    if finished is None:
        return "cancelled"
    if finished["status"] == "stopped":
        if "cancelled" in finished.get("reason", ""):
            return "cancelled"
        return "max_tokens" if "token" in finished.get("reason", "") else "max_turn_requests"
    return "end_turn"


def _title(name: str, args: dict[str, Any]) -> str:
    shown = args.get("path") or args.get("query") or args.get("command") or args.get("name")
    if shown is None:
        shown = json.dumps(args, ensure_ascii=False)[:80]
    return f"{name} {shown}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
