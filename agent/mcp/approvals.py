"""Approvals for actions the loop does not see itself (MCP tool calls).

The request and the answer go through the session's event stream like the loop's own
approvals (``approval_requested`` / ``approval_given``); front ends answer by request id, and
the task runner hands answers it does not recognise to ``Session.answer_approval``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from agent.events import ApprovalGiven, ApprovalRequested
from agent.graph.deps import emit
from agent.policy import ActionKind, ApprovalPolicy, needs_approval


@dataclass(frozen=True)
class Decision:
    approved: bool
    note: str
    by: str


class ApprovalBroker:
    """Asks approvals under ``policy`` and waits for the answers."""

    def __init__(self, policy: ApprovalPolicy) -> None:
        self.policy = policy
        self._waiting: dict[str, asyncio.Future[tuple[bool, str]]] = {}

    def owns(self, request_id: str) -> bool:
        return request_id in self._waiting

    async def ask(self, kind: ActionKind, summary: str, detail: str) -> Decision:
        """The decision on one action: by the policy, or by the user (waits for it)."""
        request_id = f"mcp-{uuid.uuid4().hex[:10]}"
        if not needs_approval(self.policy, kind):
            emit(ApprovalGiven(request_id=request_id, kind=kind, approved=True, by="policy",
                               policy=self.policy,
                               note=f"approved automatically by the {self.policy} policy"))
            return Decision(True, "", "policy")
        future: asyncio.Future[tuple[bool, str]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        emit(ApprovalRequested(request_id=request_id, kind=kind, summary=summary, detail=detail))
        try:
            approved, note = await future
        finally:
            self._waiting.pop(request_id, None)
        emit(ApprovalGiven(request_id=request_id, kind=kind, approved=approved, by="user",
                           policy=self.policy, note=note))
        return Decision(approved, note, "user")

    def answer(self, request_id: str, approved: bool, note: str = "") -> None:
        future = self._waiting.get(request_id)
        if future is not None and not future.done():
            future.set_result((bool(approved), note))
