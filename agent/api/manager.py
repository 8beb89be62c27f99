"""Sessions of the HTTP API: create, run tasks, answer approvals, cancel, resume after a crash.

Many sessions run at once; each repository has one lock (see ``runner``). The session table
and the event log live in ``<state_dir>/server.sqlite``: a server killed mid-task finds its
sessions ``interrupted`` on restart, repairs any edit set the kill cut short, and continues
them from their checkpoints on ``resume``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent.api.db import DB_FILE_NAME, open_db
from agent.api.eventlog import EventLog
from agent.api.paths import confine_repository
from agent.api.recovery import repair_interrupted_edit
from agent.api.runner import TaskRunner, TaskSpec
from agent.api.settings import ServerSettings
from agent.api.store import SessionRecord, SessionStore
from agent.events import Notice, SessionFinished
from agent.mcp.settings import McpServerConfig

HISTORY_LINES = 5


class SessionNotFound(LookupError):
    """No session with that id."""


class SessionBusy(RuntimeError):
    """The session's state does not allow that now (a task is running, or none is)."""


class SessionManager:
    """Every API session of one server process."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.conn = open_db(settings.state_dir / DB_FILE_NAME)
        self.store = SessionStore(self.conn)
        self.log = EventLog(self.conn)
        self.runners: dict[str, TaskRunner] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def startup(self) -> None:
        """Sessions whose task was running when the server died become ``interrupted``;
        edit sets the kill cut short are put back so a resume applies them whole."""
        for record in self.store.all():
            if record.state in ("running", "waiting"):
                record.state = "interrupted"
                self.store.save(record)
                if record.thread_id:
                    repaired = await repair_interrupted_edit(Path(record.root), record.thread_id)
                    note = (f"; files of a half-applied edit set restored: {', '.join(repaired)}"
                            if repaired else "")
                    self.log.append(record.id, Notice(
                        level="warning", text=f"the server stopped during this task{note}; "
                                              f"resume it with POST /v1/sessions/{record.id}/resume"))

    async def shutdown(self) -> None:
        """Stop running tasks; they stay resumable (``interrupted``)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.conn.close()

    # -- sessions ------------------------------------------------------------------------------

    def create(self, root: str, policy: str | None, model: str | None,
               mcp_servers: dict[str, McpServerConfig] | None = None) -> SessionRecord:
        repo = confine_repository(root, self.settings.allowed_roots())
        if not repo.is_dir():
            raise FileNotFoundError(f"no such folder: {repo}")
        from agent.config import load_settings
        from agent.policy import check_policy

        chosen = check_policy(policy or self.settings.default_policy
                              or load_settings(repo).approval_policy)
        record = SessionRecord(id=uuid.uuid4().hex[:16], root=str(repo), policy=chosen, model=model,
                               mcp_servers=[{"name": k, **v.model_dump()}
                                            for k, v in (mcp_servers or {}).items()])
        self.store.save(record)
        return record

    def get(self, session_id: str) -> SessionRecord:
        record = self.store.get(session_id)
        if record is None:
            raise SessionNotFound(f"no session {session_id!r}")
        return record

    def list(self) -> list[SessionRecord]:
        return self.store.all()

    async def delete(self, session_id: str) -> None:
        self.get(session_id)
        task = self._tasks.get(session_id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.store.delete(session_id)
        self.log.delete(session_id)

    # -- tasks ---------------------------------------------------------------------------------

    def prompt(self, session_id: str, text: str, *, pinned: Sequence[str] = ()) -> SessionRecord:
        """Start a task in the session (``SessionBusy`` while one runs); ``pinned`` files are
        shown to the model in full (kept in the task's checkpoint, so a resume keeps them)."""
        record = self.get(session_id)
        if session_id in self._tasks:
            raise SessionBusy("a task is running in this session; wait for it, or cancel it")
        record.tasks += 1
        record.thread_id = f"{session_id}-{record.tasks}"
        record.task = text.strip()
        return self._start(record, resume=False, pinned=pinned)

    def resume(self, session_id: str) -> SessionRecord:
        """Continue the interrupted task from its checkpoint."""
        record = self.get(session_id)
        if session_id in self._tasks:
            raise SessionBusy("a task is running in this session")
        if record.state != "interrupted" or not record.thread_id:
            raise SessionBusy(f"nothing to resume: the session is {record.state}")
        return self._start(record, resume=True)

    def answer(self, session_id: str, request_id: str, approved: bool, note: str = "", *,
               rejected_hunks: Mapping[str, Sequence[int]] | None = None) -> None:
        self.get(session_id)
        runner = self.runners.get(session_id)
        if runner is None:
            raise SessionBusy("no task is running in this session")
        runner.answer(request_id, approved, note, rejected_hunks=rejected_hunks)

    async def cancel(self, session_id: str) -> bool:
        """Stop the running task (False when none runs)."""
        self.get(session_id)
        task, runner = self._tasks.get(session_id), self.runners.get(session_id)
        if task is None or runner is None:
            return False
        runner.user_cancelled = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    def running(self, session_id: str) -> bool:
        return session_id in self._tasks

    def repo_lock(self, root: str) -> asyncio.Lock:
        return self._locks.setdefault(root, asyncio.Lock())

    def _start(self, record: SessionRecord, *, resume: bool,
               pinned: Sequence[str] = ()) -> SessionRecord:
        assert record.thread_id is not None
        spec = TaskSpec(session_id=record.id, root=Path(record.root), policy=record.policy,
                        thread_id=record.thread_id, task=_with_recap(record.task, record.history),
                        resume=resume, model_ref=record.model, pinned=list(pinned),
                        mcp_servers={str(s["name"]): McpServerConfig.model_validate(
                            {k: v for k, v in s.items() if k != "name"}) for s in record.mcp_servers})
        runner = TaskRunner(spec, self.log, self.repo_lock(record.root), on_event=self._on_event)
        runner.on_finish = lambda finished: self._finish(record.id, runner, finished)
        record.state = "running"
        self.store.save(record)
        self.runners[record.id] = runner
        self._tasks[record.id] = asyncio.create_task(self._run(record.id, runner),
                                                     name=f"session:{record.id}")
        return record

    async def _run(self, session_id: str, runner: TaskRunner) -> None:
        try:
            await runner.run()
        except asyncio.CancelledError:
            if not runner.user_cancelled:
                raise  # server shutdown: the record stays "running" -> interrupted on restart
        finally:
            self._release(session_id, runner)

    def _release(self, session_id: str, runner: TaskRunner) -> None:
        if self.runners.get(session_id) is runner:
            self.runners.pop(session_id, None)
            self._tasks.pop(session_id, None)

    def _finish(self, session_id: str, runner: TaskRunner, finished: SessionFinished) -> None:
        """The task ended: the session is idle (and free for a new prompt) from now on."""
        self._release(session_id, runner)
        record = self.store.get(session_id)
        if record is None:
            return
        record.state = "idle"
        record.last_status = finished.status
        record.undo_points = [*record.undo_points, *finished.undo_points]
        line = f"{record.task[:200]} -> {finished.status}: {finished.reason[:200]}"
        record.history = [*record.history, line][-HISTORY_LINES:]
        self.store.save(record)

    async def _on_event(self, event: object) -> None:
        if isinstance(event, SessionFinished):
            return
        session_id = getattr(event, "session_id", "")
        kind = getattr(event, "type", "")
        if kind in ("approval_requested", "approval_given"):
            record = self.store.get(session_id)
            runner = self.runners.get(session_id)
            if record is not None and runner is not None:
                record.state = "waiting" if runner.waiting else "running"
                with contextlib.suppress(Exception):
                    self.store.save(record)


def _with_recap(task: str, history: list[str]) -> str:
    if not history:
        return task
    recap = "\n".join(f"- {line}" for line in history)
    return f"{task}\n\n(Earlier tasks in this session, oldest first:\n{recap})"
