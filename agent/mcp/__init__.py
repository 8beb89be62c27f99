"""MCP servers as tool sources: settings, connections, and the model wrapper that calls them.

``McpHub.start(settings, cwd)`` connects the servers; ``McpChatModel(inner=..., hub=...,
broker=...)`` offers their tools to the model next to Engram's own, each call approved
under the session's policy.
"""

from __future__ import annotations

from agent.mcp.settings import McpServerConfig, McpSettings

__all__ = ["McpServerConfig", "McpSettings"]
