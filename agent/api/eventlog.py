"""The persistent, per-session event log: every event a task emits, numbered without gaps.

Front ends resume a stream with the last ``seq`` they saw (SSE ``Last-Event-ID``, ``?after=``);
the log, not the running task, is the source of truth, so a reconnect (or a server restart)
neither loses nor repeats an event.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from agent.events import EventBase


class EventLog:
    """Append and read events of many sessions; wake live followers on append."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._wakeups: dict[str, asyncio.Event] = {}
        self._closed: set[str] = set()

    def append(self, session_id: str, event: EventBase) -> EventBase:
        """Store ``event`` as the session's next one; it gets ``session_id`` and ``seq``."""
        with self._conn:  # one transaction: the number and the row together
            self._conn.execute("BEGIN IMMEDIATE")
            row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id=?",
                                     (session_id,)).fetchone()
            event.session_id = session_id
            event.seq = int(row[0]) + 1
            self._conn.execute("INSERT INTO events (session_id, seq, type, body) VALUES (?,?,?,?)",
                               (session_id, event.seq, getattr(event, "type", "event"),
                                event.model_dump_json()))
        self._wake(session_id)
        return event

    def read(self, session_id: str, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Events with ``seq > after``, oldest first, as JSON-ready dicts."""
        rows = self._conn.execute(
            "SELECT body FROM events WHERE session_id=? AND seq>? ORDER BY seq LIMIT ?",
            (session_id, after, limit)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def last_seq(self, session_id: str) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id=?",
                                 (session_id,)).fetchone()
        return int(row[0])

    def delete(self, session_id: str) -> None:
        with self._conn:
            self._conn.execute("DELETE FROM events WHERE session_id=?", (session_id,))
        self._closed.add(session_id)
        self._wake(session_id)

    async def follow(self, session_id: str, after: int = 0, *,
                     idle_timeout: float = 15.0) -> AsyncIterator[dict[str, Any] | None]:
        """Every event after ``after``, then new ones as they arrive; ``None`` after
        ``idle_timeout`` seconds without one (a chance to send a keep-alive)."""
        cursor = after
        while session_id not in self._closed:
            wakeup = self._wakeups.setdefault(session_id, asyncio.Event())
            batch = self.read(session_id, cursor)
            for event in batch:
                cursor = int(event["seq"])
                yield event
            if batch:
                continue
            try:
                await asyncio.wait_for(wakeup.wait(), idle_timeout)
            except TimeoutError:
                yield None

    def _wake(self, session_id: str) -> None:
        wakeup = self._wakeups.pop(session_id, None)
        if wakeup is not None:
            wakeup.set()
