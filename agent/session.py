"""``Session``: one agent task in one repository, as an async stream of typed events.

    session = Session(root, settings, policy="auto-edit")
    async for event in session.run("fix the failing date parser test"):
        render(event)                       # every front end renders the same stream
        if event.type == "approval_requested":
            session.answer_approval(event.request_id, approved=True)

The loop's state is checkpointed in ``.engram/sessions.sqlite`` after every node, so a
killed process continues with ``Session(root, settings).resume(session_id)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from agent.config import EngramSettings
from agent.events import (
    ApprovalGiven, ApprovalRequested, EventBase, SessionFinished, SessionStarted,
)
from agent.gitops import GitError, prepare_branch
from agent.graph import build_graph, initial_state
from agent.policy import ApprovalPolicy, PolicyError, check_policy, needs_approval
from agent.session_hunks import checked_rejections, covers_every_hunk
from agent.session_setup import SessionError, open_deps
from indexer.workspace import state_dir

SESSIONS_FILE = "sessions.sqlite"
_SUPERSTEPS_PER_STEP = 6

__all__ = ["Session", "SessionError", "load_checkpoint"]


class Session:
    """Runs tasks in the repository at ``root`` (see the module docstring).

    ``chat_model`` overrides the model chosen from ``settings.model``; ``policy`` overrides
    ``settings.approval_policy``. With ``wait_for_approval=False`` a run that needs an
    approval ends with status ``paused`` instead of waiting; resume it later.
    """

    def __init__(self, root: Path | str, settings: EngramSettings,
                 chat_model: BaseChatModel | None = None, *, policy: str | None = None,
                 branch: str | None = None, commit: bool = False, max_steps: int | None = None,
                 wait_for_approval: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        agent = settings.agent if max_steps is None else settings.agent.model_copy(
            update={"max_steps": max_steps})
        self.settings = settings.model_copy(update={"agent": agent})
        self.chat_model = chat_model
        try:
            self._policy_override: ApprovalPolicy | None = check_policy(policy) if policy else None
            self.policy: ApprovalPolicy = self._policy_override or check_policy(settings.approval_policy)
        except PolicyError as exc:
            raise SessionError(str(exc)) from None
        self.branch = branch
        self.commit = commit
        self.wait_for_approval = wait_for_approval
        self.session_id: str | None = None
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._requests: dict[str, ApprovalRequested] = {}
        self._hunks: dict[str, dict[str, int]] = {}
        self._seq = 0
        self._paused = False

    # -- public API --------------------------------------------------------------------------

    async def run(self, task: str, *, session_id: str | None = None,
                  pinned: Sequence[str] = ()) -> AsyncIterator[EventBase]:
        """Start ``task``; yields events until it finishes, pauses or fails.

        ``pinned``: files (repository-relative, or absolute inside it) shown to the model in
        full in every prompt of the task; one that cannot be pinned is skipped with a warning
        ``Notice``. They are checkpointed, so ``resume`` keeps them."""
        if not task.strip():
            raise SessionError("the task is empty; say what to change")
        sid = session_id or uuid.uuid4().hex[:12]
        if self.branch:
            try:
                prepare_branch(self.root, self.branch)
            except GitError as exc:
                raise SessionError(str(exc)) from None
        state = initial_state(sid, task.strip(), self.policy, self.branch, self.commit,
                              [str(p) for p in pinned])
        async for event in self._drive(sid, state, task=task.strip(), resumed=False):
            yield event

    async def resume(self, session_id: str) -> AsyncIterator[EventBase]:
        """Continue a session from its last checkpoint (a waiting approval is asked again).

        The session keeps the policy it started with, unless this ``Session`` was given one
        explicitly: that one replaces it from now on."""
        async for event in self._drive(session_id, None, task="", resumed=True):
            yield event

    def answer_approval(self, request_id: str, approved: bool, note: str = "", *,
                        rejected_hunks: Mapping[str, Sequence[int]] | None = None) -> None:
        """Answer the approval the run is waiting for; the event stream then continues.

        ``rejected_hunks`` (edit sets only): path -> indices of hunks of that file's
        ``FileDiff.diff`` (see ``agent.edits.hunks.split_hunks``) to leave out of an approved
        set; the model is told which. A file whose hunks are all rejected is not touched;
        rejecting every hunk of every file declines the set. Unknown paths or indices raise
        ``SessionError``."""
        future = self._answers.get(request_id)
        if future is None or future.done():
            waiting = ", ".join(k for k, f in self._answers.items() if not f.done()) or "none"
            raise SessionError(f"no approval {request_id!r} is waiting (waiting: {waiting})")
        value: dict[str, Any] = {"approved": bool(approved), "note": note}
        if rejected_hunks:
            rejected = checked_rejections(self._requests[request_id], self._hunks.get(request_id, {}),
                                          rejected_hunks)
            value["rejected_hunks"] = rejected
            if approved and covers_every_hunk(self._hunks.get(request_id, {}), rejected):
                value["approved"] = False
                value["note"] = note or "the user rejected every hunk"
        future.get_loop().call_soon_threadsafe(_settle, future, value)

    # -- the driver --------------------------------------------------------------------------

    async def _drive(self, sid: str, state: dict[str, Any] | None, *, task: str,
                     resumed: bool) -> AsyncIterator[EventBase]:
        self.session_id = sid
        self._seq = 0
        async with contextlib.AsyncExitStack() as stack:
            # On this thread: the index's SQLite connection must be used where it was opened.
            deps = open_deps(self.root, self.settings, self.chat_model, stack, sid,
                             policy_override=self._policy_override)
            saver = await self._checkpointer(stack)
            graph = build_graph(deps, saver)
            config: dict[str, Any] = {
                "configurable": {"thread_id": sid},
                "recursion_limit": self.settings.agent.max_steps * _SUPERSTEPS_PER_STEP + 50,
            }
            inp: Any = state
            waiting: dict[str, Any] | None = None
            policy = self.policy
            if resumed:
                snapshot = await graph.aget_state(config)
                values = snapshot.values or await _start_input(saver, config)
                if not values.get("task"):
                    raise SessionError(f"no session {sid!r} in {self.root / '.engram' / SESSIONS_FILE}")
                task = values["task"]
                policy = self._policy_override or values.get("policy") or policy
                self.policy = policy
                if snapshot.next:
                    inp = None
                    if snapshot.interrupts:
                        waiting = snapshot.interrupts[0].value
                        if not needs_approval(policy, waiting.get("kind", "edit")):
                            waiting = None  # the new policy rules on it when the node runs again
                elif values.get("status"):  # it reached finish: report how it ended
                    yield self._stamp(_finished(values))
                    return
                else:  # killed before its first node finished: start over from its input
                    inp = initial_state(sid, task, policy, values.get("branch"),
                                        bool(values.get("commit")), values.get("pinned") or [])
            yield self._stamp(SessionStarted(task=task, root=str(self.root), model=deps.model_name,
                                             policy=policy, resumed=resumed))
            try:
                async for event in self._loop(graph, inp, config, waiting):
                    yield event
                if self._paused:
                    return
                final = await graph.aget_state(config)
                yield self._stamp(_finished(final.values))
            except (SessionError, asyncio.CancelledError):
                raise
            except Exception as exc:  # any failure inside a node: the checkpoint survives
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:400]
                snapshot = await graph.aget_state(config)
                yield self._stamp(_finished(snapshot.values or {}, status="error",
                                            reason=f"{reason} (resume with `engram run --resume {sid}`)"))

    async def _loop(self, graph: Any, inp: Any, config: dict[str, Any],
                    waiting: dict[str, Any] | None) -> AsyncIterator[EventBase]:
        """Stream the graph; at each interrupt ask for an answer and resume with it."""
        self._paused = False
        pending_interrupt = waiting
        while True:
            if pending_interrupt is None:
                # durability="sync": a node's checkpoint is on disk before the next node starts,
                # so a process killed at any point resumes from the last finished node.
                async for mode, chunk in graph.astream(inp, config, stream_mode=["custom", "updates"],
                                                       durability="sync"):
                    if mode == "custom" and isinstance(chunk, EventBase):
                        yield self._stamp(chunk)
                    elif mode == "updates" and isinstance(chunk, dict) and "__interrupt__" in chunk:
                        pending_interrupt = chunk["__interrupt__"][0].value
                if pending_interrupt is None:
                    return
            payload = dict(pending_interrupt)
            hunks = payload.pop("hunks", None) or {}
            request = ApprovalRequested(**payload)
            pending_interrupt = None
            self._requests[request.request_id] = request
            self._hunks[request.request_id] = hunks
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._answers[request.request_id] = future
            yield self._stamp(request)
            if not self.wait_for_approval and not future.done():
                self._paused = True
                yield self._stamp(SessionFinished(
                    status="paused", reason=f"waiting for approval of: {request.summary}; "
                    f"continue with `engram run --resume {self.session_id}`"))
                return
            answer = await future
            self._answers.pop(request.request_id, None)
            self._requests.pop(request.request_id, None)
            self._hunks.pop(request.request_id, None)
            yield self._stamp(ApprovalGiven(request_id=request.request_id, kind=request.kind,
                                            approved=answer["approved"], by="user",
                                            policy=self.policy, note=answer.get("note", ""),
                                            rejected_hunks=answer.get("rejected_hunks") or {}))
            inp = Command(resume=answer)

    async def _checkpointer(self, stack: contextlib.AsyncExitStack) -> AsyncSqliteSaver:
        path = state_dir(self.root) / SESSIONS_FILE
        conn = await aiosqlite.connect(str(path))
        stack.push_async_callback(conn.close)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        return AsyncSqliteSaver(conn)

    def _stamp(self, event: EventBase) -> EventBase:
        self._seq += 1
        event.session_id = self.session_id or ""
        event.seq = self._seq
        return event


async def load_checkpoint(root: Path | str, session_id: str) -> dict[str, Any] | None:
    """The last checkpointed state of a session (None when there is no such session)."""
    path = Path(root).expanduser().resolve() / ".engram" / SESSIONS_FILE
    if not path.is_file():
        return None
    async with aiosqlite.connect(str(path)) as conn:
        saved = await AsyncSqliteSaver(conn).aget_tuple({"configurable": {"thread_id": session_id}})
    return None if saved is None else dict(saved.checkpoint.get("channel_values", {}))


async def _start_input(saver: AsyncSqliteSaver, config: Any) -> dict[str, Any]:
    """The input a run started with, from its first checkpoint (``{}`` when there is none)."""
    saved = await saver.aget_tuple(config)
    start = None if saved is None else saved.checkpoint.get("channel_values", {}).get("__start__")
    return start if isinstance(start, dict) else {}


def _settle(future: asyncio.Future[dict[str, Any]], value: dict[str, Any]) -> None:
    if not future.done():
        future.set_result(value)


def _finished(values: dict[str, Any], *, status: str | None = None,
              reason: str | None = None) -> SessionFinished:
    return SessionFinished(
        status=status or values.get("status") or "error",  # type: ignore[arg-type]
        reason=reason or values.get("reason") or "the session ended without a status",
        tests=values.get("tests", "not_run"), edits_applied=values.get("edits_applied", 0),
        files_changed=values.get("files_changed", []), undo_points=values.get("undo_points", []),
        steps=values.get("steps", 0),
        total_tokens=values.get("input_tokens", 0) + values.get("output_tokens", 0),
        cost_usd=values.get("cost_usd", 0.0), commit=values.get("commit_sha"),
        branch=values.get("branch"))
