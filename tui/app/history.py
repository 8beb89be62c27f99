"""Past sessions of a project, read from the agent's checkpoints (``.engram/sessions.sqlite``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SESSIONS_FILE = "sessions.sqlite"


class HistoryError(Exception):
    """The session file cannot be read; the message says why in one line."""


@dataclass(frozen=True)
class SessionSummary:
    """One session as the history screen lists it."""

    id: str
    task: str
    status: str
    """The finish status, or ``unfinished`` for a session that can still continue."""
    updated: str
    """ISO time of its last checkpoint."""
    steps: int
    files_changed: tuple[str, ...]

    @property
    def resumable(self) -> bool:
        return self.status in ("unfinished", "paused", "error")


def list_sessions(root: Path, limit: int = 100) -> list[SessionSummary]:
    """Sessions of the project at ``root``, newest first (empty when there are none)."""
    from langgraph.checkpoint.sqlite import SqliteSaver  # heavy: loaded when the screen opens

    path = root / ".engram" / SESSIONS_FILE
    if not path.is_file():
        return []
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open {path}: {exc}") from None
    try:
        try:
            rows = conn.execute(
                "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' "
                "GROUP BY thread_id ORDER BY MAX(checkpoint_id) DESC LIMIT ?", (limit,)).fetchall()
        except sqlite3.OperationalError:
            return []  # no checkpoint table yet: no session has run
        saver = SqliteSaver(conn)
        found = []
        for (thread_id,) in rows:
            saved = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
            if saved is None:
                continue
            values = saved.checkpoint.get("channel_values", {}) or {}
            found.append(SessionSummary(
                id=str(thread_id), task=str(values.get("task", "")),
                status=str(values.get("status") or "unfinished"),
                updated=str(saved.checkpoint.get("ts", ""))[:19].replace("T", " "),
                steps=int(values.get("steps", 0) or 0),
                files_changed=tuple(values.get("files_changed", []) or ())))
        return found
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from None
    finally:
        conn.close()
