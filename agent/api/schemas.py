"""Request and response bodies of the API (what the OpenAPI docs show)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.api.store import SessionRecord
from agent.mcp.settings import McpServerConfig


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: str = Field(description="Absolute path of the repository, under an allowed root.")
    policy: str | None = Field(default=None, description="suggest, auto-edit or full-auto.")
    model: str | None = Field(default=None, description="provider:model or replay:FILE.")
    mcp_servers: dict[str, McpServerConfig] = Field(
        default_factory=dict, description="MCP servers for this session, by name.")


class SessionView(BaseModel):
    session: SessionRecord
    running: bool
    last_seq: int
    waiting: list[dict[str, Any]] = Field(default_factory=list)
    """Approvals waiting for an answer (``approval_requested`` events)."""


class PromptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200_000, description="The task.")
    pinned: list[str] = Field(default_factory=list, max_length=200,
                              description="Repository files shown to the model in full for this task.")


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=4_000, description="Told to the model.")
    rejected_hunks: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Approve an edit set without these hunks: path -> indices of the hunks "
                    "(0-based, in the order of that file's diff in the edit_set event).")


class DiffView(BaseModel):
    pending: list[dict[str, Any]]
    """Edit sets and commands waiting for approval, with their diff or command line."""
    working_tree: str
    """``git diff HEAD`` of the repository: everything changed since the last commit."""


class FileView(BaseModel):
    path: str
    size: int
    content: str


class UndoView(BaseModel):
    undone: bool
    point: str | None = None
    label: str | None = None
    files: list[str] = Field(default_factory=list)


class MemoryAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    kind: str = "fact"
    pinned: bool = False


class MemoryEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=20_000)
    kind: str | None = None
    pinned: bool | None = None
