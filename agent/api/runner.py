"""One agent task of one API/ACP session: run it, log every event, route approvals, cancel.

Edits to one repository are serialized: the runner holds its repository's lock while the
task works and lets go only while it waits for a person (an approval), so two sessions in
one repository never interleave their edit sets or test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import ConfigError, EngramSettings, load_settings
from agent.events import ApprovalRequested, EventBase, Notice, SessionFinished
from agent.mcp.approvals import ApprovalBroker
from agent.mcp.client import McpHub
from agent.mcp.config import load_mcp_settings
from agent.mcp.settings import McpServerConfig
from agent.policy import PolicyError, check_policy
from agent.api.chat_factory import build_chat_model
from agent.api.eventlog import EventLog

EventHook = Callable[[EventBase], Awaitable[None]]
FinishHook = Callable[[SessionFinished], None]


class BadApproval(ValueError):
    """An answer the waiting approval cannot take (e.g. hunks that are not in its edit set)."""


class ApprovalNotFound(LookupError):
    """No approval with that id is waiting in this session."""


@dataclass
class TaskSpec:
    session_id: str
    """The front end's session (the event log's key)."""
    root: Path
    policy: str
    thread_id: str
    """The agent checkpoint thread of this task."""
    task: str
    """The task text."""
    resume: bool = False
    """Continue ``thread_id`` from its checkpoint (from the start when it has none yet)."""
    model_ref: str | None = None
    pinned: list[str] = field(default_factory=list)
    """Files shown to the model in full (a resume takes them from the checkpoint)."""
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)


def task_settings(root: Path, model_ref: str | None) -> EngramSettings:
    """The project's settings, with the session's model reference when it has one."""
    from runtime.llm import parse_model_ref

    settings = load_settings(root)
    if model_ref:
        settings = settings.model_copy(update={"model": parse_model_ref(model_ref, settings.model)})
    return settings


class TaskRunner:
    """Drives one task; ``finished`` is its last event once ``run`` returns."""

    def __init__(self, spec: TaskSpec, log: EventLog, repo_lock: asyncio.Lock, *,
                 on_event: EventHook | None = None, on_finish: FinishHook | None = None) -> None:
        self.spec = spec
        self.log = log
        self.repo_lock = repo_lock
        self.on_event = on_event
        self.on_finish = on_finish
        self.user_cancelled = False
        """Set before cancelling for a user's cancel; a bare cancel (server shutdown) logs no
        ``finished`` event, so the task stays resumable."""
        self.waiting: dict[str, ApprovalRequested] = {}
        self.finished: SessionFinished | None = None
        self._session: object | None = None
        self._broker: ApprovalBroker | None = None

    async def run(self) -> SessionFinished:
        """Run (or resume) the task to its end; cancelling the caller stops it."""
        hub: McpHub | None = None
        try:
            from agent.session import Session, SessionError, load_checkpoint

            settings = task_settings(self.spec.root, self.spec.model_ref)
            policy = check_policy(self.spec.policy)
            mcp = load_mcp_settings(settings, self.spec.root)
            if mcp.servers or self.spec.mcp_servers:
                hub = await McpHub.start(mcp, self.spec.root, self.spec.mcp_servers)
                for problem in hub.problems:
                    await self._emit(Notice(level="warning",
                                            text=f"{problem}; the session goes on without it"))
            done, resume = 0, False
            if self.spec.resume:
                saved = await load_checkpoint(self.spec.root, self.spec.thread_id)
                # Killed before the first model call (no checkpoint, or only the gathered
                # context): nothing is lost by starting over, and a checkpoint taken
                # between langgraph's writes may hold no next step.
                resume = saved is not None and (int(saved.get("steps", 0)) > 0 or bool(saved.get("status")))
                done = int((saved or {}).get("steps", 0))
            self._broker = ApprovalBroker(policy)
            chat = build_chat_model(settings, done_steps=done, hub=hub, broker=self._broker)
            session = Session(self.spec.root, settings, chat, policy=policy)
            self._session = session
            stream = (session.resume(self.spec.thread_id) if resume
                      else session.run(self.spec.task, session_id=self.spec.thread_id,
                                       pinned=self.spec.pinned))
            await self._drive(stream)
        except asyncio.CancelledError:
            if self.user_cancelled:
                await self._emit(SessionFinished(status="stopped", reason="cancelled by the user"))
            raise
        except (SessionError, ConfigError, PolicyError) as exc:
            await self._emit(SessionFinished(status="error", reason=str(exc)))
        except Exception as exc:  # a broken model or script must end the task, not the server
            await self._emit(SessionFinished(status="error",
                                             reason=f"{type(exc).__name__}: {exc}".splitlines()[0]))
        finally:
            if hub is not None:
                await hub.close()
        if self.finished is None:
            await self._emit(SessionFinished(status="error", reason="the task ended without a result"))
        assert self.finished is not None
        return self.finished

    def answer(self, request_id: str, approved: bool, note: str = "", *,
               rejected_hunks: Mapping[str, Sequence[int]] | None = None) -> None:
        """Answer a waiting approval (``ApprovalNotFound`` when none has that id);
        ``rejected_hunks`` approves an edit set without those hunks."""
        if request_id not in self.waiting:
            raise ApprovalNotFound(f"no approval {request_id!r} is waiting "
                                   f"(waiting: {', '.join(self.waiting) or 'none'})")
        if self._broker is not None and self._broker.owns(request_id):
            if rejected_hunks:
                raise BadApproval("only an edit set's approval can leave hunks out")
            self._broker.answer(request_id, approved, note)
        else:
            from agent.session import SessionError  # loaded already: a task is running

            # the session checks the hunks first: a bad answer leaves the question open
            try:
                self._session.answer_approval(  # type: ignore[attr-defined]
                    request_id, approved, note, rejected_hunks=rejected_hunks)
            except SessionError as exc:
                raise BadApproval(str(exc)) from None
        self.waiting.pop(request_id)

    async def _drive(self, stream: object) -> None:
        agen = stream  # an async generator of events
        await self.repo_lock.acquire()
        locked = True
        try:
            async for event in agen:  # type: ignore[attr-defined]
                if not locked:
                    await self.repo_lock.acquire()
                    locked = True
                if isinstance(event, ApprovalRequested):
                    self.waiting[event.request_id] = event
                    self.repo_lock.release()  # a person is deciding: let other sessions work
                    locked = False
                await self._emit(event)
        finally:
            if locked:
                self.repo_lock.release()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await agen.aclose()  # type: ignore[attr-defined]

    async def _emit(self, event: EventBase) -> None:
        if isinstance(event, SessionFinished):
            self.finished = event
            if self.on_finish is not None:
                self.on_finish(event)  # the session is free before anyone sees `finished`
        self.log.append(self.spec.session_id, event)
        if self.on_event is not None:
            await self.on_event(event)
