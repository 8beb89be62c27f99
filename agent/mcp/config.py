"""Reading the ``[mcp]`` table of the settings."""

from __future__ import annotations

from pathlib import Path

from agent.config import EngramSettings
from agent.mcp.settings import McpSettings


def load_mcp_settings(settings: EngramSettings, project_root: Path | None = None) -> McpSettings:
    """The MCP servers that apply; ``load_settings`` already merged user and project files."""
    return settings.mcp
