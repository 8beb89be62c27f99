"""The one event stream every front end renders (CLI, TUI, HTTP/SSE, ACP).

Each event is a pydantic model with a ``type`` tag; ``parse_event`` reads one back from JSON.
``seq`` numbers events of one session in order; ``Session`` fills in ``session_id`` and ``seq``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

FinishStatus = Literal["success", "failed", "stopped", "rejected", "paused", "error"]
"""``success``: edits applied and tests green (or no tests and edits applied);
``failed``: the task ended without green tests; ``stopped``: a budget or loop detection ended
it; ``rejected``: the user declined; ``paused``: waiting for an approval (resumable);
``error``: something broke (resumable from the last checkpoint)."""

TestsState = Literal["green", "red", "none", "not_run"]


class EventBase(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid")

    session_id: str = ""
    seq: int = 0
    """Position in the session's stream (1-based), set by ``Session``."""
    ts: float = Field(default_factory=time.time)


class SessionStarted(EventBase):
    type: Literal["session_started"] = "session_started"
    task: str
    root: str
    model: str
    policy: str
    resumed: bool = False


class ContextReady(EventBase):
    """What the model will read besides the conversation."""

    type: Literal["context_ready"] = "context_ready"
    mode: Literal["whole-repo", "navigator"]
    context_tokens: int
    files: list[str]
    """Files shown in full."""
    memories: int
    conventions: int
    window: int
    pinned: list[str] = Field(default_factory=list)
    """Files the user pinned that are shown in full in every prompt (bad pins left out)."""


class MessageDelta(EventBase):
    """A piece of the model's answer as it streams."""

    type: Literal["message_delta"] = "message_delta"
    text: str


class AssistantMessage(EventBase):
    """The model's whole answer of one step (its text; tool calls follow as events)."""

    type: Literal["assistant_message"] = "assistant_message"
    text: str
    step: int


class PlanReady(EventBase):
    type: Literal["plan"] = "plan"
    text: str
    steps: list[str]


class ToolCallStarted(EventBase):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    args: dict[str, Any]


class ToolCallFinished(EventBase):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    ok: bool
    output: str
    """What the model was told (possibly shortened)."""


class FileDiff(BaseModel):
    """One file of an edit set."""

    model_config = ConfigDict(extra="forbid")

    path: str
    action: Literal["modify", "create", "delete"]
    diff: str


class EditSetProposed(EventBase):
    type: Literal["edit_set"] = "edit_set"
    edit_set_id: str
    description: str
    files: list[FileDiff]
    notes: list[str] = Field(default_factory=list)
    """How blocks matched when not exactly (whitespace-insensitive, fuzzy)."""


class EditSetApplied(EventBase):
    type: Literal["edit_applied"] = "edit_applied"
    edit_set_id: str
    files: list[str]
    undo_point: str


class EditSetFailed(EventBase):
    """Edits that did not apply; the model is told why (closest candidates included)."""

    type: Literal["edit_failed"] = "edit_failed"
    edit_set_id: str
    reason: str
    failures: list[str]
    rolled_back: bool


class ApprovalRequested(EventBase):
    type: Literal["approval_requested"] = "approval_requested"
    request_id: str
    kind: Literal["edit", "command", "memory"]
    summary: str
    detail: str = ""
    """The diff of an edit set, the command line of a command."""
    edit_set_id: str = ""
    """For kind ``edit``: the ``EditSetProposed`` this asks about (its hunks can be rejected
    one by one, see ``Session.answer_approval``)."""


class ApprovalGiven(EventBase):
    """An answer to an approval, by the user or (visibly) by the policy."""

    type: Literal["approval_given"] = "approval_given"
    request_id: str
    kind: Literal["edit", "command", "memory"]
    approved: bool
    by: Literal["user", "policy"]
    policy: str
    note: str = ""
    rejected_hunks: dict[str, list[int]] = Field(default_factory=dict)
    """Hunks of an approved edit set the user left out: path -> indices into
    ``agent.edits.hunks.split_hunks`` of that file's ``FileDiff.diff``."""


class TestOutput(EventBase):
    """Lines a running test command printed, in batches, before its ``TestRunFinished``."""

    __test__ = False  # not a pytest test class, despite the name

    type: Literal["test_output"] = "test_output"
    command: str
    scope: Literal["targeted", "suite"]
    lines: list[str]
    """stdout and stderr lines in arrival order, without trailing newlines."""


class TestRunFinished(EventBase):
    type: Literal["test_run"] = "test_run"
    command: str
    scope: Literal["targeted", "suite"]
    ok: bool
    passed: int
    failed: list[str]
    errored: list[str]
    headline: str
    excerpt: str
    """The failures as the model reads them."""


class CommandFinished(EventBase):
    type: Literal["command_run"] = "command_run"
    command: str
    exit_code: int
    summary: str
    undo_point: str = ""


class TokenUsage(EventBase):
    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    cost_usd: float
    total_input_tokens: int
    total_output_tokens: int
    total_cost_usd: float
    prompt_tokens: int
    """Tokens Engram counted in the prompt it sent (the model's own count may differ)."""


class Notice(EventBase):
    """Something worth telling the user: compaction, a warning, what was learned."""

    type: Literal["notice"] = "notice"
    level: Literal["info", "warning"] = "info"
    text: str


class SessionFinished(EventBase):
    type: Literal["finished"] = "finished"
    status: FinishStatus
    reason: str
    tests: TestsState = "not_run"
    edits_applied: int = 0
    files_changed: list[str] = Field(default_factory=list)
    undo_points: list[str] = Field(default_factory=list)
    """Undo points this task created, oldest first (restore the first to undo it all)."""
    steps: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    commit: str | None = None
    branch: str | None = None

    @property
    def succeeded(self) -> bool:
        """Finished with tests green, or without tests and with the edits applied."""
        return self.status == "success"


Event = Annotated[
    SessionStarted | ContextReady | MessageDelta | AssistantMessage | PlanReady
    | ToolCallStarted | ToolCallFinished | EditSetProposed | EditSetApplied | EditSetFailed
    | ApprovalRequested | ApprovalGiven | TestOutput | TestRunFinished | CommandFinished | TokenUsage
    | Notice | SessionFinished,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> EventBase:
    """An event from its JSON text or dict (``ValidationError`` for anything else)."""
    if isinstance(data, dict):
        return _ADAPTER.validate_python(data)
    return _ADAPTER.validate_json(data)

