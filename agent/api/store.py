"""The table of API sessions: which repository, which policy, what state, which task."""

from __future__ import annotations

import sqlite3
import time
from typing import Literal

from pydantic import BaseModel, Field

SessionState = Literal["idle", "running", "waiting", "interrupted"]


class SessionRecord(BaseModel):
    """One API session: a repository and the tasks run in it (one at a time)."""

    id: str
    root: str
    policy: str
    model: str | None = None
    """A model reference (``provider:model``, ``replay:FILE``) or None for the configured one."""
    created_at: float = Field(default_factory=time.time)
    state: SessionState = "idle"
    """``interrupted``: the server stopped during a task; ``POST .../resume`` continues it."""
    last_status: str | None = None
    """The status of the last finished task (see ``agent.events.FinishStatus``)."""
    tasks: int = 0
    thread_id: str | None = None
    """The agent checkpoint thread of the current (or last) task."""
    task: str = ""
    undo_points: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)
    """One line per finished task, given to the next task as a recap."""
    mcp_servers: list[dict[str, object]] = Field(default_factory=list)


class SessionStore:
    """Session records in the server database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def save(self, record: SessionRecord) -> None:
        with self._conn:
            self._conn.execute("INSERT OR REPLACE INTO sessions (id, body) VALUES (?, ?)",
                               (record.id, record.model_dump_json()))

    def get(self, session_id: str) -> SessionRecord | None:
        row = self._conn.execute("SELECT body FROM sessions WHERE id=?", (session_id,)).fetchone()
        return None if row is None else SessionRecord.model_validate_json(row[0])

    def all(self) -> list[SessionRecord]:
        rows = self._conn.execute("SELECT body FROM sessions").fetchall()
        return sorted((SessionRecord.model_validate_json(r[0]) for r in rows),
                      key=lambda r: r.created_at)

    def delete(self, session_id: str) -> None:
        with self._conn:
            self._conn.execute("DELETE FROM sessions WHERE id=?", (session_id,))
