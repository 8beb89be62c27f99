"""Prometheus metrics of one server (its own registry: no process-global state)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    """Request counts and latencies, sessions by state, events logged."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("engram_api_requests_total", "HTTP requests handled.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("engram_api_request_seconds", "Time to the response's start.",
                                 ["route"], registry=self.registry)
        self.sessions = Gauge("engram_api_sessions", "Sessions by state.", ["state"],
                              registry=self.registry)
        self.running = Gauge("engram_api_tasks_running", "Tasks running now.",
                             registry=self.registry)
        self.events = Gauge("engram_api_events_logged", "Events in the event log.",
                            registry=self.registry)

    def render(self, manager: Any) -> bytes:
        """The exposition text, with the session gauges read now."""
        counts: dict[str, int] = {"idle": 0, "running": 0, "waiting": 0, "interrupted": 0}
        for record in manager.list():
            counts[record.state] = counts.get(record.state, 0) + 1
        for state, n in counts.items():
            self.sessions.labels(state).set(n)
        self.running.set(len(manager.runners))
        row = manager.conn.execute("SELECT COUNT(*) FROM events").fetchone()
        self.events.set(int(row[0]))
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts each HTTP request by its route template and status."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                route = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.latency.labels(route).observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
