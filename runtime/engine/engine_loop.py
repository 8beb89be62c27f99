"""Runs an :class:`Engine` on one background thread so many callers share its batches.

The engine is not thread-safe; only the loop thread touches it. Callers hand requests in
through a queue and get :class:`RequestOutput` s back through callbacks, wrapped here as
sync and async iterators. A consumer that stops iterating early aborts its request, which
frees its KV blocks.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runtime.engine.engine import Engine
from runtime.engine.errors import EngineError
from runtime.engine.request import RequestOutput
from runtime.engine.sampling import SamplingParams

log = logging.getLogger(__name__)
OutputCallback = Callable[[RequestOutput], None]


@dataclass
class LoopStats:
    """A snapshot the loop publishes after every step."""

    free_blocks: int
    total_blocks: int
    running: int
    waiting: int
    kv: dict[str, Any] = field(default_factory=dict)
    """:meth:`Engine.kv_status` at the same moment (tier occupancy, hit rate)."""


class EngineLoop:
    """The single thread that steps the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inbox: queue.Queue[tuple] = queue.Queue()
        self._callbacks: dict[str, OutputCallback] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engram-engine", daemon=True)
        self.stats = LoopStats(engine.num_free_blocks, engine.pool.num_blocks, 0, 0, engine.kv_status())

    def start(self) -> EngineLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(("wake",))
        self._thread.join(timeout=30)

    def submit(self, prompt: str | list[int], params: SamplingParams, on_output: OutputCallback) -> str:
        """Validate (raising on bad input) and queue a request; return its id."""
        ids = self.engine.check_request(prompt, params)
        request_id = uuid.uuid4().hex
        self._inbox.put(("add", request_id, ids, params, on_output))
        return request_id

    def abort(self, request_id: str) -> None:
        self._inbox.put(("abort", request_id))

    def iterate(self, prompt: str | list[int], params: SamplingParams) -> Iterator[RequestOutput]:
        """Blocking iterator over one request's outputs."""
        outputs: queue.Queue[RequestOutput] = queue.Queue()
        rid = self.submit(prompt, params, outputs.put)
        finished = False
        try:
            while not finished:
                out = outputs.get()
                finished = out.finished
                yield out
        finally:
            if not finished:
                self.abort(rid)

    async def aiterate(self, prompt: str | list[int], params: SamplingParams) -> AsyncIterator[RequestOutput]:
        """Async iterator over one request's outputs; cancelling it aborts the request."""
        loop = asyncio.get_running_loop()
        outputs: asyncio.Queue[RequestOutput] = asyncio.Queue()
        rid = self.submit(prompt, params, lambda out: loop.call_soon_threadsafe(outputs.put_nowait, out))
        finished = False
        try:
            while not finished:
                out = await outputs.get()
                finished = out.finished
                yield out
        finally:
            if not finished:
                self.abort(rid)

    # -- loop thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            idle = not self.engine.has_unfinished()
            try:
                self._handle(self._inbox.get(block=idle, timeout=0.5 if idle else None))
                while True:
                    self._handle(self._inbox.get_nowait())
            except queue.Empty:
                pass
            if not self.engine.has_unfinished():
                continue
            try:
                outputs = self.engine.step()
            except Exception as exc:  # a bug or a device failure: fail what is in flight, keep serving
                log.exception("engine step failed")
                outputs = self._fail_all(f"engine error: {exc}")
            self._publish()  # before delivering, so a caller that got its answer sees fresh stats
            for out in outputs:
                self._deliver(out)

    def _handle(self, msg: tuple) -> None:
        if msg[0] == "add":
            _, rid, ids, params, callback = msg
            self._callbacks[rid] = callback
            try:
                self.engine.add_request(ids, params, request_id=rid)
            except EngineError as exc:
                self._deliver(RequestOutput(rid, finished=True, finish_reason="error", error=str(exc)))
        elif msg[0] == "abort":
            aborted = self.engine.abort(msg[1])
            self._publish()
            if aborted:
                self._deliver(RequestOutput(msg[1], finished=True, finish_reason="abort"))
            self._callbacks.pop(msg[1], None)
            return
        self._publish()

    def _deliver(self, out: RequestOutput) -> None:
        callback = self._callbacks.get(out.request_id)
        if out.finished:
            self._callbacks.pop(out.request_id, None)
        if callback is not None:
            try:
                callback(out)
            except Exception:  # a consumer's event loop may be closed; that must not stop the engine
                log.debug("output callback failed", exc_info=True)

    def _fail_all(self, message: str) -> list[RequestOutput]:
        outs = []
        for rid in list(self._callbacks):
            req = self.engine.scheduler.get(rid)
            if req is not None:
                self.engine.scheduler.finish(req, "error", message)
            outs.append(RequestOutput(rid, finished=True, finish_reason="error", error=message))
        return outs

    def _publish(self) -> None:
        s = self.engine.scheduler
        self.stats = LoopStats(self.engine.num_free_blocks, self.engine.pool.num_blocks, len(s.running), len(s.waiting),
                               self.engine.kv_status())
