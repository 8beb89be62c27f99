"""Connections to MCP servers (official ``mcp`` SDK): start, list tools, call, stop.

Each server is held open by its own task (the SDK's transports are entered and left in one
task); calls come from any task. A server that fails to start or dies is marked down with
the reason and its tools are withdrawn: the session goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.mcp.naming import model_name, qualified_name, tool_definition
from agent.mcp.settings import McpServerConfig, McpSettings


@dataclass(frozen=True)
class McpTool:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any]

    @property
    def qualified(self) -> str:
        return qualified_name(self.server, self.name)


@dataclass
class ToolOutcome:
    """What a call returned, as the model reads it."""

    text: str
    ok: bool


@dataclass
class McpServerStatus:
    name: str
    transport: str
    target: str
    up: bool
    error: str = ""
    tools: list[McpTool] = field(default_factory=list)


class McpServerDown(Exception):
    """The server is not running (failed to start or died); the message says why."""


class McpConnection:
    """One server, held open by a background task."""

    def __init__(self, name: str, config: McpServerConfig, *, cwd: Path,
                 startup_timeout_s: float, call_timeout_s: float) -> None:
        self.name = name
        self.config = config
        self.cwd = cwd
        self.startup_timeout_s = startup_timeout_s
        self.call_timeout_s = call_timeout_s
        self.tools: list[McpTool] = []
        self.error = ""
        self._client: Any = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        return self._client is not None and not self.error

    async def start(self) -> None:
        """Start the server and list its tools; ``McpServerDown`` when it cannot."""
        self._task = asyncio.create_task(self._hold(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.startup_timeout_s)
        except TimeoutError:
            self.error = f"did not start within {self.startup_timeout_s:g}s"
            await self.close()
        if not self.up:
            raise McpServerDown(f"MCP server {self.name!r} ({self.config.describe()}): {self.error}")

    async def call(self, tool: str, args: dict[str, Any]) -> ToolOutcome:
        """Call ``tool``; ``McpServerDown`` when the server is gone (it is then marked down)."""
        if not self.up:
            raise McpServerDown(f"MCP server {self.name!r} is down: {self.error or 'not started'}")
        try:
            result = await asyncio.wait_for(self._client.call_tool(tool, args), self.call_timeout_s)
        except TimeoutError:
            return ToolOutcome(f"error: {self.name}.{tool} did not answer within "
                               f"{self.call_timeout_s:g}s", False)
        except Exception as exc:  # the SDK raises several types when the peer vanishes
            if self._task is not None and self._task.done() or _looks_closed(exc):
                self.error = self.error or f"stopped ({_one_line(exc)})"
                raise McpServerDown(f"MCP server {self.name!r} stopped: {self.error}") from None
            return ToolOutcome(f"error: {_one_line(exc)}", False)
        return ToolOutcome(_result_text(result), not bool(getattr(result, "is_error", False)))

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            if not self._task.done():
                self._task.cancel()
        self._client = None

    async def _hold(self) -> None:
        from mcp import Client  # the SDK is imported only when a server is configured

        try:
            async with Client(self._target(), read_timeout_seconds=self.call_timeout_s) as client:
                listed = await client.list_tools()
                self.tools = [McpTool(self.name, t.name, t.description or "",
                                      dict(t.input_schema or {})) for t in listed.tools]
                self._client = client
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - any end of the server is reported
            if not self._stop.is_set():
                self.error = self.error or _one_line(exc) or type(exc).__name__
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            if not self._stop.is_set() and not self.error:
                self.error = "the server closed the connection"
            self._ready.set()

    def _target(self) -> Any:
        if self.config.url:
            return self.config.url
        from mcp import StdioServerParameters

        return StdioServerParameters(command=str(self.config.command), args=list(self.config.args),
                                     env=dict(self.config.env) or None,
                                     cwd=self.config.cwd or str(self.cwd))


class McpHub:
    """The MCP servers of one session and the tools they offer."""

    def __init__(self, settings: McpSettings, cwd: Path) -> None:
        self.settings = settings
        self.cwd = cwd
        self.connections: dict[str, McpConnection] = {}
        self.problems: list[str] = []

    @classmethod
    async def start(cls, settings: McpSettings, cwd: Path,
                    extra: dict[str, McpServerConfig] | None = None) -> McpHub:
        """Start every enabled server (configured ones and ``extra``); failures are kept
        in ``problems`` and the hub goes on without those servers."""
        hub = cls(settings, cwd)
        servers = {**settings.servers, **(extra or {})}
        conns = [McpConnection(name, cfg, cwd=cwd, startup_timeout_s=settings.startup_timeout_s,
                               call_timeout_s=settings.call_timeout_s)
                 for name, cfg in servers.items() if cfg.enabled]
        results = await asyncio.gather(*(c.start() for c in conns), return_exceptions=True)
        for conn, result in zip(conns, results):
            if isinstance(result, BaseException):
                hub.problems.append(str(result) if isinstance(result, McpServerDown)
                                    else f"MCP server {conn.name!r}: {_one_line(result)}")
            else:
                hub.connections[conn.name] = conn
        return hub

    def tools(self) -> list[McpTool]:
        return [t for c in self.connections.values() if c.up for t in c.tools]

    def model_name(self, tool: McpTool) -> str:
        return model_name(tool.server, tool.name, dotted=self.settings.dotted_names)

    def definitions(self) -> list[dict[str, Any]]:
        """Tool definitions for the model, one per tool of every running server."""
        return [tool_definition(self.model_name(t), f"[MCP server {t.server}] {t.description}",
                                t.input_schema) for t in self.tools()]

    def lookup(self, name: str) -> McpTool | None:
        """The tool the model calls ``name`` (servers that went down included)."""
        for conn in self.connections.values():
            for tool in conn.tools:
                if self.model_name(tool) == name:
                    return tool
        return None

    async def call(self, tool: McpTool, args: dict[str, Any]) -> ToolOutcome:
        conn = self.connections.get(tool.server)
        if conn is None:
            raise McpServerDown(f"MCP server {tool.server!r} is not connected")
        return await conn.call(tool.name, args)

    def statuses(self) -> list[McpServerStatus]:
        return [McpServerStatus(c.name, c.config.transport, c.config.describe(), c.up, c.error,
                                list(c.tools)) for c in self.connections.values()]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections.values()),
                             return_exceptions=True)


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            parts.append(str(getattr(resource, "text", "") or f"[resource {getattr(resource, 'uri', '')}]"))
        else:
            parts.append(f"[{kind or 'content'}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return "\n".join(parts) or "(no output)"


def _looks_closed(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(w in text for w in ("closed", "broken", "eof", "resourceclosed", "disconnect"))


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _one_line(exc.exceptions[0])
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
