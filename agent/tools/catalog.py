"""The tools the model is offered: names, what kind of action each is, and their schemas.

The loop executes every call itself (reads at once, edits batched into one atomic edit set,
commands and memory writes under the approval policy), so the model is bound to tool
*definitions* built from the pydantic argument models.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from agent.tools import schemas

ToolKind = Literal["read", "edit", "tests", "command", "memory"]


class ToolSpec:
    """One tool: its name, kind and argument model (whose docstring describes it)."""

    def __init__(self, name: str, kind: ToolKind, args: type[BaseModel]) -> None:
        self.name = name
        self.kind = kind
        self.args = args

    def definition(self) -> dict[str, Any]:
        """The OpenAI-style function definition LangChain's ``bind_tools`` accepts."""
        tool = convert_to_openai_tool(self.args)
        tool["function"]["name"] = self.name
        return tool


TOOLS: dict[str, ToolSpec] = {spec.name: spec for spec in (
    ToolSpec("read_file", "read", schemas.ReadFileArgs),
    ToolSpec("list_files", "read", schemas.ListFilesArgs),
    ToolSpec("search_code", "read", schemas.SearchCodeArgs),
    ToolSpec("find_symbol", "read", schemas.FindSymbolArgs),
    ToolSpec("edit_file", "edit", schemas.EditFileArgs),
    ToolSpec("write_file", "edit", schemas.WriteFileArgs),
    ToolSpec("delete_file", "edit", schemas.DeleteFileArgs),
    ToolSpec("run_tests", "tests", schemas.RunTestsArgs),
    ToolSpec("run_command", "command", schemas.RunCommandArgs),
    ToolSpec("remember", "memory", schemas.RememberArgs),
)}


def tool_definitions() -> list[dict[str, Any]]:
    """Every tool's definition, for ``chat_model.bind_tools``."""
    return [spec.definition() for spec in TOOLS.values()]


def validate_args(name: str, args: dict[str, Any]) -> BaseModel:
    """The parsed arguments of a call (``KeyError`` for an unknown tool,
    ``pydantic.ValidationError`` for bad arguments)."""
    return TOOLS[name].args.model_validate(args)
