"""Live output of a running test command, batched into ``TestOutput`` events.

The sandbox hands over lines one by one on the event loop; front ends get them in batches (at
most every ``interval_s`` or every ``batch_lines`` lines) and at most ``max_lines`` per run,
then one "... N more lines" line, so a runaway test cannot flood them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

from agent.events import EventBase, TestOutput

EventSink = Callable[[EventBase], None]
"""Where events go (the session's stream writer)."""

MAX_LINES = 2_000
BATCH_LINES = 200
INTERVAL_S = 0.1
MAX_LINE_CHARS = 2_000


class TestOutputBatcher:
    """Collects the lines of one test run and sends them to ``sink`` as ``TestOutput``.

    ``on_output`` is the sandbox's ``on_output(stream, line)`` callback; call ``close()`` once
    the run has ended (it sends the last batch), before the run's ``TestRunFinished``.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, command: str, scope: Literal["targeted", "suite"], sink: EventSink, *,
                 max_lines: int = MAX_LINES, batch_lines: int = BATCH_LINES,
                 interval_s: float = INTERVAL_S) -> None:
        self.command = command
        self.scope = scope
        self.sink = sink
        self.max_lines = max_lines
        self.batch_lines = batch_lines
        self.interval_s = interval_s
        self.seen = 0
        """Lines the command printed (sent or not)."""
        self._batch: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def on_output(self, stream: str, line: str) -> None:
        """One line of output (``stream`` is stdout or stderr; both go to one list)."""
        if self._closed:
            return
        self.seen += 1
        if self.seen > self.max_lines:
            return
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" ... ({len(line) - MAX_LINE_CHARS} more characters)"
        self._batch.append(line)
        if len(self._batch) >= self.batch_lines:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called off the event loop: batches go by size and close()
                return
            self._timer = loop.call_later(self.interval_s, self.flush)

    def flush(self) -> None:
        """Send what is collected now (nothing when empty)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._batch:
            lines, self._batch = self._batch, []
            self.sink(TestOutput(command=self.command, scope=self.scope, lines=lines))

    def close(self) -> None:
        """The run ended: send the last batch, with a line saying how many were left out."""
        if self._closed:
            return
        if self.seen > self.max_lines:
            self._batch.append(f"... {self.seen - self.max_lines} more lines")
        self.flush()
        self._closed = True
