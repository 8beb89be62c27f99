"""Settings of MCP servers (the ``[mcp]`` table of config.toml)::

    [mcp.servers.docs]
    command = "uvx"
    args = ["mcp-server-fetch"]

    [mcp.servers.tracker]
    url = "http://127.0.0.1:9000/mcp"
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class McpServerConfig(BaseModel):
    """One MCP server: a command speaking MCP on stdio, or an HTTP (streamable) URL."""

    command: str | None = None
    """Executable to start (stdio transport)."""

    args: list[str] = Field(default_factory=list)
    """Arguments of ``command``."""

    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables of ``command``."""

    cwd: str | None = None
    """Working folder of ``command`` (the repository when unset)."""

    url: str | None = None
    """Streamable-HTTP endpoint (HTTP transport)."""

    headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers (e.g. authorization) for ``url``."""

    enabled: bool = True
    """Set false to keep the entry without starting the server."""

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if bool(self.command) == bool(self.url):
            raise ValueError("give exactly one of `command` (stdio) or `url` (HTTP)")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command else "http"

    def describe(self) -> str:
        """The command line or URL, for listings."""
        return " ".join([self.command or "", *self.args]).strip() if self.command else str(self.url)


class McpSettings(BaseModel):
    """MCP servers whose tools are offered to the model next to Engram's own."""

    servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    """Servers by name; their tools are named ``NAME.tool`` (``NAME__tool`` for the model)."""

    startup_timeout_s: float = Field(default=30.0, gt=0)
    """Seconds a server may take to start and list its tools before it is skipped."""

    call_timeout_s: float = Field(default=120.0, gt=0)
    """Seconds one tool call may take."""

    dotted_names: bool = False
    """Offer tools to the model as ``NAME.tool``; most providers (OpenAI, Anthropic) only
    accept ``[A-Za-z0-9_-]`` in tool names, so the default is ``NAME__tool``."""

    @field_validator("servers")
    @classmethod
    def _names(cls, servers: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        for name in servers:
            if not SERVER_NAME.match(name) or "__" in name:
                raise ValueError(f"MCP server name {name!r}: use letters, digits, '-' and '_' "
                                 f"(no '__', at most 32 characters)")
        return servers
