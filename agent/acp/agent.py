"""Engram as an ACP agent: editors (Zed, JetBrains, Neovim) drive it over stdio JSON-RPC.

Each ``session/prompt`` runs one agent task (``agent.api.runner.TaskRunner``, the same runner
the HTTP API uses); its events become ``session/update`` notifications, and every approval
the policy requires becomes a ``session/request_permission`` request: none is ever skipped.
Sessions and their events are kept in ``$XDG_STATE_HOME/engram/acp/server.sqlite`` so
``session/load`` can replay a conversation.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, start_tool_call, text_block, tool_content
from acp.schema import (
    AgentCapabilities, AllowedOutcome, ClientCapabilities, Implementation, InitializeResponse,
    LoadSessionResponse, McpCapabilities, NewSessionResponse, PermissionOption,
    PromptCapabilities, PromptResponse, ToolCallUpdate,
)

from agent.acp.prompt_text import prompt_to_task
from agent.acp.updates import UpdateTranslator, stop_reason
from agent.api.db import DB_FILE_NAME, open_db
from agent.api.eventlog import EventLog
from agent.api.runner import TaskRunner, TaskSpec
from agent.api.store import SessionRecord, SessionStore
from agent.events import ApprovalRequested, EditSetApplied, EventBase
from agent.mcp.settings import McpServerConfig

ALLOW, REJECT = "allow", "reject"
_OPTIONS = [PermissionOption(option_id=ALLOW, name="Allow", kind="allow_once"),
            PermissionOption(option_id=REJECT, name="Reject", kind="reject_once")]


@dataclass
class AcpOptions:
    """How ``engram acp`` runs: the state folder, and overrides of the project settings."""

    state_dir: Path
    policy: str | None = None
    model: str | None = None


@dataclass
class _Turn:
    runner: TaskRunner
    task: asyncio.Task[Any]


@dataclass
class _Live:
    """What a session needs while this process serves it."""

    record: SessionRecord
    translator: UpdateTranslator
    mcp: dict[str, McpServerConfig] = field(default_factory=dict)
    turn: _Turn | None = None


class EngramAcpAgent:
    """The ``acp.Agent`` implementation."""

    def __init__(self, options: AcpOptions) -> None:
        self.options = options
        conn = open_db(options.state_dir / DB_FILE_NAME)
        self.store = SessionStore(conn)
        self.log = EventLog(conn)
        self.client: Any = None
        self.client_caps = ClientCapabilities()
        self._live: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def on_connect(self, conn: Any) -> None:
        self.client = conn

    async def initialize(self, protocol_version: int,
                         client_capabilities: ClientCapabilities | None = None,
                         client_info: Implementation | None = None, **kwargs: Any) -> InitializeResponse:
        self.client_caps = client_capabilities or ClientCapabilities()
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True)),
            agent_info=Implementation(name="engram", title="Engram", version=_version()))

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None

    async def new_session(self, cwd: str, mcp_servers: list[Any] | None = None,
                          **kwargs: Any) -> NewSessionResponse:
        root = _repo(cwd)
        from agent.config import load_settings
        from agent.policy import PolicyError, check_policy

        try:
            policy = check_policy(self.options.policy or load_settings(root).approval_policy)
        except PolicyError as exc:
            raise RequestError.invalid_params({"message": str(exc)}) from None
        record = SessionRecord(id=uuid.uuid4().hex[:16], root=str(root), policy=policy,
                               model=self.options.model)
        self.store.save(record)
        self._live[record.id] = _Live(record, UpdateTranslator(root), _mcp_configs(mcp_servers))
        return NewSessionResponse(session_id=record.id)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None,
                           **kwargs: Any) -> LoadSessionResponse:
        record = self.store.get(session_id)
        if record is None:
            raise RequestError.resource_not_found(session_id)
        live = _Live(record, UpdateTranslator(Path(record.root)), _mcp_configs(mcp_servers))
        self._live[session_id] = live
        for event in self.log.read(session_id, 0, limit=1_000_000):
            for update in live.translator.updates(event, replay=True):
                await self.client.session_update(session_id=session_id, update=update)
        return LoadSessionResponse()

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        live = self._session(session_id)
        if live.turn is not None:
            raise RequestError.invalid_request({"message": "a prompt is already running in this session"})
        record = live.record
        text = await prompt_to_task(prompt, session_id, self.client,
                                    bool(self.client_caps.fs and self.client_caps.fs.read_text_file))
        if not text.strip():
            raise RequestError.invalid_params({"message": "the prompt has no text"})
        record.tasks += 1
        record.thread_id = f"{record.id}-{record.tasks}"
        record.task = text
        record.state = "running"
        self.store.save(record)
        spec = TaskSpec(session_id=record.id, root=Path(record.root), policy=record.policy,
                        thread_id=record.thread_id, task=_with_history(text, record.history),
                        model_ref=record.model, mcp_servers=live.mcp)
        runner = TaskRunner(spec, self.log, self._locks.setdefault(record.root, asyncio.Lock()))
        runner.on_event = lambda event: self._forward(live, runner, event)
        live.turn = _Turn(runner, asyncio.create_task(runner.run()))
        try:
            await asyncio.gather(live.turn.task, return_exceptions=True)
        finally:
            live.turn = None
        finished = runner.finished
        record.state = "idle"
        if finished is not None:
            record.last_status = finished.status
            record.history = [*record.history, f"{text[:200]} -> {finished.status}"][-5:]
        self.store.save(record)
        return PromptResponse(stop_reason=stop_reason(  # type: ignore[arg-type]
            finished.model_dump(mode="json") if finished is not None else None))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        live = self._live.get(session_id)
        if live is None or live.turn is None:
            return
        live.turn.runner.user_cancelled = True
        live.turn.task.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    # -- events -> the client ------------------------------------------------------------------

    async def _forward(self, live: _Live, runner: TaskRunner, event: EventBase) -> None:
        sid = live.record.id
        data = event.model_dump(mode="json")
        for update in live.translator.updates(data):
            await self.client.session_update(session_id=sid, update=update)
        if isinstance(event, ApprovalRequested):
            await self._ask(live, runner, event)
        elif isinstance(event, EditSetApplied) and self.client_caps.fs and self.client_caps.fs.write_text_file:
            # Editors keep open buffers: hand them the new texts so nothing stale is saved over them.
            for path, content in live.translator.new_texts(event.edit_set_id).items():
                if content is not None:
                    await self.client.write_text_file(session_id=sid, path=str(Path(live.record.root) / path),
                                                      content=content)

    async def _ask(self, live: _Live, runner: TaskRunner, event: ApprovalRequested) -> None:
        sid = live.record.id
        kind = {"edit": "edit", "command": "execute", "memory": "other"}[event.kind]
        detail = [tool_content(text_block(event.detail))] if event.detail else None
        if event.request_id not in live.translator.started:
            live.translator.started.add(event.request_id)
            await self.client.session_update(session_id=sid, update=start_tool_call(
                event.request_id, event.summary, kind=kind, status="pending", content=detail))  # type: ignore[arg-type]
        response = await self.client.request_permission(
            session_id=sid, options=_OPTIONS,
            tool_call=ToolCallUpdate(tool_call_id=event.request_id, title=event.summary,
                                     kind=kind, status="pending", content=detail))  # type: ignore[arg-type]
        outcome = response.outcome
        approved = isinstance(outcome, AllowedOutcome) and outcome.option_id == ALLOW
        note = "" if approved else ("declined in the editor" if isinstance(outcome, AllowedOutcome)
                                    else "the editor cancelled the request")
        runner.answer(event.request_id, approved, note)

    def _session(self, session_id: str) -> _Live:
        live = self._live.get(session_id)
        if live is None:
            record = self.store.get(session_id)
            if record is None:
                raise RequestError.invalid_params({"message": f"no session {session_id!r}"})
            live = _Live(record, UpdateTranslator(Path(record.root)))
            self._live[session_id] = live
        return live


def _repo(cwd: str) -> Path:
    path = Path(cwd).expanduser()
    if not path.is_absolute() or not path.is_dir():
        raise RequestError.invalid_params({"message": f"cwd must be an existing absolute folder: {cwd}"})
    from indexer.workspace import find_project_root

    return find_project_root(path.resolve())


def _mcp_configs(servers: list[Any] | None) -> dict[str, McpServerConfig]:
    """MCP servers of ``session/new`` (stdio and HTTP) as Engram configs."""
    import re

    out: dict[str, McpServerConfig] = {}
    for server in servers or []:
        name = re.sub(r"[^A-Za-z0-9_-]", "-", str(getattr(server, "name", "mcp")))[:32].strip("-") or "mcp"
        name = name.replace("__", "_")
        if getattr(server, "command", None):
            env = {e.name: e.value for e in (getattr(server, "env", None) or [])}
            out[name] = McpServerConfig(command=server.command, args=list(server.args or []), env=env)
        elif getattr(server, "url", None) and getattr(server, "type", "http") == "http":
            headers = {h.name: h.value for h in (getattr(server, "headers", None) or [])}
            out[name] = McpServerConfig(url=server.url, headers=headers)
    return out


def _with_history(text: str, history: list[str]) -> str:
    if not history:
        return text
    recap = "\n".join(f"- {line}" for line in history)
    return f"{text}\n\n(Earlier prompts in this session, oldest first:\n{recap})"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("engram-code")
    except PackageNotFoundError:
        return "0"
