"""A scripted event source with the Session's interface, for screens that must look the same
on every machine (snapshots) and for flows the replay model cannot produce (long streams)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.events import (
    ApprovalGiven, ApprovalRequested, AssistantMessage, ContextReady, EditSetApplied,
    EditSetProposed, EventBase, FileDiff, MessageDelta, Notice, PlanReady, SessionFinished,
    SessionStarted, TestRunFinished, TokenUsage,
)
from agent.edits import FileChange

PRICES_BEFORE = ("def apply_discount(price, pct):\n    \"\"\"Price after a discount of pct percent.\"\"\"\n"
                 "    return price * pct / 100\n")
PRICES_AFTER = PRICES_BEFORE.replace("price * pct / 100", "price * (100 - pct) / 100")
DIFF = FileChange("shop/prices.py", PRICES_BEFORE, PRICES_AFTER).diff()


@dataclass
class Hold:
    """Put in a script to stop it there until the test calls ``released.set()``."""

    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class FakeSession:
    """Yields ``events``; an ``ApprovalRequested`` waits for ``answer_approval`` and is
    followed by the ``ApprovalGiven`` the real session would send."""

    def __init__(self, events: list[EventBase | Hold], unpinnable: Mapping[str, str] | None = None) -> None:
        self.events = events
        self.unpinnable = dict(unpinnable or {})
        """Pins the fake agent refuses: path -> reason (a warning ``Notice`` says it)."""
        self.session_id = "fake0001"
        self.tasks: list[str] = []
        self.pinned: list[list[str]] = []
        self.answers: list[tuple[str, bool]] = []
        self.rejected_hunks: list[dict[str, list[int]]] = []
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = {}

    async def run(self, task: str, *, session_id: str | None = None,
                  pinned: Sequence[str] = ()) -> AsyncIterator[EventBase]:
        self.tasks.append(task)
        self.pinned.append(list(pinned))
        for seq, event in enumerate(self.events, 1):
            if isinstance(event, Hold):
                event.reached.set()
                await asyncio.to_thread(event.released.wait, 30)
                continue
            event.session_id, event.seq = self.session_id, seq
            if isinstance(event, ContextReady):  # the agent pins what it can, warns about the rest
                for path in pinned:
                    if path in self.unpinnable:
                        yield Notice(level="warning", text=f"not pinned: {path}: {self.unpinnable[path]}")
                event = event.model_copy(update={"pinned": [p for p in pinned if p not in self.unpinnable]})
            yield event
            if isinstance(event, ApprovalRequested):
                loop = asyncio.get_running_loop()
                future: asyncio.Future[bool] = loop.create_future()
                self._waiting[event.request_id] = (loop, future)
                approved = await future
                yield ApprovalGiven(request_id=event.request_id, kind=event.kind, approved=approved,
                                    by="user", policy="suggest", session_id=self.session_id,
                                    rejected_hunks=self.rejected_hunks[-1] if approved else {})
            await asyncio.sleep(0)

    def answer_approval(self, request_id: str, approved: bool, note: str = "", *,
                        rejected_hunks: Mapping[str, Sequence[int]] | None = None) -> None:
        self.answers.append((request_id, approved))
        self.rejected_hunks.append({k: list(v) for k, v in (rejected_hunks or {}).items()})
        loop, future = self._waiting.pop(request_id)
        loop.call_soon_threadsafe(future.set_result, approved)


def fix_events(approval: bool = False) -> list[EventBase]:
    """A short successful task: plan, an edit to one file, green tests."""
    events: list[Any] = [
        SessionStarted(task="fix the discount", root="/repo", model="replay:fix.jsonl", policy="suggest"),
        ContextReady(mode="whole-repo", context_tokens=1_830, files=["shop/prices.py", "shop/cart.py"],
                     memories=1, conventions=0, window=128_000),
        MessageDelta(text="1. Make apply_discount in shop/prices.py subtract the discount.\n"),
        MessageDelta(text="2. Run the tests.\n"),
        PlanReady(text="", steps=["Make apply_discount in shop/prices.py subtract the discount.",
                                  "Run the tests."]),
        MessageDelta(text="The discount was added instead of subtracted:\n\n```python\n"
                          "return price * (100 - pct) / 100\n```\n"),
        AssistantMessage(text="", step=2),
        EditSetProposed(edit_set_id="e1", description="subtract the discount",
                        files=[FileDiff(path="shop/prices.py", action="modify", diff=DIFF)]),
    ]
    if approval:
        events.append(ApprovalRequested(request_id="r1", kind="edit", edit_set_id="e1",
                                        summary="apply edits to 1 file(s): shop/prices.py", detail=DIFF))
    events += [
        EditSetApplied(edit_set_id="e1", files=["shop/prices.py"], undo_point="0123456789abcdef"),
        TestRunFinished(command="python -m unittest", scope="suite", ok=True, passed=1, failed=[],
                        errored=[], headline="1 passed", excerpt=""),
        TokenUsage(input_tokens=1_900, output_tokens=120, cost_usd=0.0012, total_input_tokens=1_900,
                   total_output_tokens=120, total_cost_usd=0.0012, prompt_tokens=2_050),
        SessionFinished(status="success", reason="1 edit set applied and the tests pass", tests="green",
                        edits_applied=1, files_changed=["shop/prices.py"], steps=2, total_tokens=2_020,
                        cost_usd=0.0012),
    ]
    return events


def long_stream(lines: int) -> list[EventBase]:
    """An answer of ``lines`` lines (prose and code), streamed in uneven pieces."""
    body: list[str] = []
    for i in range(lines):
        if i % 50 == 0:
            body.append("```python" if (i // 50) % 2 == 0 else "```")
        else:
            body.append(f"value_{i} = compute({i})  # line {i}" if (i // 50) % 2 == 0
                        else f"Paragraph line {i} with **bold** and `code` words.")
    text = "\n".join(body) + "\n"
    pieces = [text[i:i + 97] for i in range(0, len(text), 97)]
    return [SessionStarted(task="stream", root="/repo", model="fake", policy="suggest"),
            *[MessageDelta(text=p) for p in pieces], AssistantMessage(text=text, step=1),
            SessionFinished(status="success", reason="done")]


CART_BEFORE = "".join(f"line {i}\n" for i in range(1, 31))
CART_AFTER = CART_BEFORE.replace("line 2\n", "LINE TWO\n").replace("line 27\n", "LINE 27\n")
CART_DIFF = FileChange("shop/cart.py", CART_BEFORE, CART_AFTER).diff()
"""Two hunks (lines 2 and 27 are far apart)."""


def review_events(applied: Sequence[str] = ("shop/cart.py", "shop/prices.py")) -> list[EventBase]:
    """An edit set of three hunks in two files waiting for approval, then applied (to
    ``applied``: the files the answer left something of)."""
    files = [FileDiff(path="shop/cart.py", action="modify", diff=CART_DIFF),
             FileDiff(path="shop/prices.py", action="modify", diff=DIFF)]
    return [
        SessionStarted(task="fix both", root="/repo", model="fake", policy="suggest"),
        EditSetProposed(edit_set_id="e7", description="fix both", files=files),
        ApprovalRequested(request_id="r7", kind="edit", edit_set_id="e7",
                          summary="apply edits to 2 file(s): shop/cart.py, shop/prices.py",
                          detail=CART_DIFF + DIFF),
        EditSetApplied(edit_set_id="e7", files=list(applied), undo_point="feedface00"),
        SessionFinished(status="success", reason="applied", edits_applied=1, files_changed=list(applied)),
    ]
