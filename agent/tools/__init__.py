"""The model's tools: definitions bound to the chat model, read tools, commands and tests."""

from __future__ import annotations

from agent.tools.catalog import TOOLS, ToolSpec, tool_definitions, validate_args
from agent.tools.paths import ToolInputError, repo_relative
from agent.tools.read_tools import ReadTools

__all__ = ["TOOLS", "ReadTools", "ToolInputError", "ToolSpec", "repo_relative",
           "tool_definitions", "validate_args"]
