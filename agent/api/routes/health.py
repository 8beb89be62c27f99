"""``/healthz`` (no token needed) and ``/metrics`` (Prometheus text; token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from agent.api.auth import require_token

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    mgr = request.app.state.manager
    return {"ok": True, "sessions": len(mgr.list()), "running": len(mgr.runners)}


@router.get("/metrics", dependencies=[Depends(require_token)], response_class=Response)
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render(request.app.state.manager)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
