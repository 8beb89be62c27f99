"""After a task: remember what worked, with sources, in the project's Engram memory.

- the test command that ran green;
- each failure that an edit fixed, and the fix;
- conventions observed: where the tests live and which runner they use.

Only successful tasks teach: a failed attempt is not evidence of what works.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from agent.memory import MemoryStore, MemoryStoreError
from agent.memory.drafts import make_draft


def lessons(state: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(text, kind, sources)`` worth remembering from a finished task's state."""
    if state.get("status") != "success":
        return []
    session = f"session:{state.get('session_id', '')}"
    out: list[tuple[str, str, list[str]]] = []
    command = state.get("test_command") or ""
    if state.get("tests") == "green" and command:
        out.append((f"The project's tests run with `{command}` (they passed after a change).",
                    "command", [session]))
    for item in state.get("learned", []):
        files = [f for f in item.get("fixed_files", []) if f]
        failing = ", ".join(item.get("failing", [])[:3])
        detail = _first_error(item.get("failure_text", ""))
        what = item.get("description") or "an edit"
        text = (f"Failure {failing}{': ' + detail if detail else ''} was fixed by changing "
                f"{', '.join(files) or 'the code'} ({what}).")
        out.append((text, "fix", [session, *(f"file:{f}" for f in files[:4])]))
    folders = _test_folders(state)
    if folders and command:
        out.append((f"Tests live in {', '.join(folders)} and run with `{command}`.", "convention",
                    [session]))
    return out


def learn_from_task(store: MemoryStore, state: Mapping[str, Any]) -> list[str]:
    """Store the lessons of ``state``; returns their texts (a memory error skips the entry)."""
    stored = []
    for text, kind, sources in lessons(state):
        try:
            draft = make_draft(text, kind, sources, 0.7, False, store.settings)
            report = store.remember_many([draft])
        except MemoryStoreError:
            continue
        if report.added or report.merged:
            stored.append(text)
    return stored


def _first_error(text: str) -> str:
    """The most telling line of a failure excerpt (an assertion or error line)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "assert" in ln or ln.startswith("E "):
            return ln.removeprefix("E ").strip()[:160]
    return ""


def _test_folders(state: Mapping[str, Any]) -> list[str]:
    ids = [i for item in state.get("learned", []) for i in item.get("failing", [])]
    folders = []
    for test_id in ids:
        path = test_id.split("::", 1)[0]
        if "/" in path:
            folders.append(str(PurePosixPath(path).parent) + "/")
        elif "." in path and not path.endswith(".py"):
            folders.append(path.split(".", 1)[0] + "/")
    return list(dict.fromkeys(folders))[:3]
