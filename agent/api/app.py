"""The FastAPI app: routers under ``/v1``, token auth, body limit, CORS, errors, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from agent.api.auth import require_token
from agent.api.limits import BodyLimitMiddleware
from agent.api.manager import SessionBusy, SessionManager, SessionNotFound
from agent.api.metrics import ApiMetrics, MetricsMiddleware
from agent.api.paths import PathRefused
from agent.api.routes import events, health, memory, repo, sessions, tasks
from agent.api.runner import ApprovalNotFound, BadApproval
from agent.api.settings import ServerSettings

API_VERSION = "v1"


def create_app(settings: ServerSettings, token: str) -> FastAPI:
    """The app for ``settings``; every ``/v1`` route needs ``Authorization: Bearer <token>``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager = SessionManager(settings)
        app.state.manager = manager
        await manager.startup()
        try:
            yield
        finally:
            await manager.shutdown()

    app = FastAPI(title="Engram API", version="1", lifespan=lifespan,
                  description="Drive Engram from an editor: sessions, tasks, a resumable event "
                              "stream, approvals, undo, files, search and memory.")
    app.state.settings = settings
    app.state.token = token
    app.state.metrics = ApiMetrics()
    secured = [Depends(require_token)]
    for router in (sessions.router, tasks.router, events.router, repo.router, memory.router):
        app.include_router(router, prefix=f"/{API_VERSION}", dependencies=secured)
    app.include_router(events.ws_router, prefix=f"/{API_VERSION}")  # checks the token itself
    app.include_router(health.router)
    _add_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # closed unless origins are named
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Last-Event-ID"])
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def handler(code: int):  # noqa: ANN202 - a FastAPI exception handler
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc).strip("'\"")}, status_code=code)
        return handle

    from agent.config import ConfigError
    from agent.memory.errors import EntryNotFoundError, MemoryInputError, MemoryStoreError
    from agent.policy import PolicyError

    for exc_type, code in (
        (SessionNotFound, status.HTTP_404_NOT_FOUND),
        (ApprovalNotFound, status.HTTP_404_NOT_FOUND),
        (EntryNotFoundError, status.HTTP_404_NOT_FOUND),
        (FileNotFoundError, status.HTTP_404_NOT_FOUND),
        (SessionBusy, status.HTTP_409_CONFLICT),
        (PathRefused, status.HTTP_403_FORBIDDEN),
        (PolicyError, status.HTTP_400_BAD_REQUEST),
        (BadApproval, status.HTTP_400_BAD_REQUEST),
        (ConfigError, status.HTTP_400_BAD_REQUEST),
        (MemoryInputError, status.HTTP_400_BAD_REQUEST),
        (MemoryStoreError, status.HTTP_500_INTERNAL_SERVER_ERROR),
    ):
        app.add_exception_handler(exc_type, handler(code))
