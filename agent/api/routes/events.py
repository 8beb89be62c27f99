"""The event stream of a session: Server-Sent Events and WebSocket, resumable by ``seq``.

Every event has a ``seq`` (1, 2, 3, ... per session, persisted). A client that reconnects
with the last ``seq`` it saw (``Last-Event-ID`` for SSE, ``?after=`` for both) receives every
later event exactly once, whether the task kept running or the server restarted meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response, StreamingResponse

from agent.api.auth import websocket_authorized
from agent.api.manager import SessionManager, SessionNotFound
from agent.api.routes.deps import manager

router = APIRouter(prefix="/sessions/{session_id}", tags=["events"])
ws_router = APIRouter(prefix="/sessions/{session_id}", tags=["events"])

KEEPALIVE_S = 15.0
WS_SUBPROTOCOL = "engram.v1"


def _start(last_event_id: str | None, after: int) -> int:
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return after


async def _events(mgr: SessionManager, session_id: str, after: int,
                  close_on_finish: bool, request: Request | None) -> AsyncIterator[str]:
    async for event in mgr.log.follow(session_id, after, idle_timeout=KEEPALIVE_S):
        if request is not None and await request.is_disconnected():
            return
        if event is None:
            yield ": keep-alive\n\n"
            continue
        data = json.dumps(event, ensure_ascii=False)
        yield f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"
        if close_on_finish and event["type"] == "finished":
            return


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def sse_events(session_id: str, request: Request,
                     after: int = Query(0, ge=0, description="Send events with seq > after."),
                     close_on_finish: bool = Query(False, description="End the stream after the next `finished` event."),
                     last_event_id: str | None = Header(None),
                     mgr: SessionManager = Depends(manager)) -> StreamingResponse:
    """Events as ``text/event-stream``; each has ``id: <seq>``, ``event: <type>``, JSON data."""
    mgr.get(session_id)
    start = _start(last_event_id, after)
    return StreamingResponse(_events(mgr, session_id, start, close_on_finish, request),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@ws_router.websocket("/events/ws")
async def ws_events(websocket: WebSocket, session_id: str, after: int = 0,
                    close_on_finish: bool = False) -> None:
    """Events as JSON text messages. Authenticate with ``Authorization: Bearer`` or the
    subprotocols ``["engram.v1", "bearer.<token>"]``."""
    if not websocket_authorized(websocket):
        await _deny(websocket, 401, "missing or wrong bearer token")
        return
    mgr: SessionManager = websocket.app.state.manager
    try:
        mgr.get(session_id)
    except SessionNotFound as exc:
        await _deny(websocket, 404, str(exc))
        return
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None)
    try:
        async for event in mgr.log.follow(session_id, after, idle_timeout=KEEPALIVE_S):
            if event is None:
                await websocket.send_text('{"type": "keep-alive"}')
                continue
            await websocket.send_text(json.dumps(event, ensure_ascii=False))
            if close_on_finish and event["type"] == "finished":
                await websocket.close()
                return
    except WebSocketDisconnect:
        return


async def _deny(websocket: WebSocket, code: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    try:
        await websocket.send_denial_response(Response(body, status_code=code,
                                                      media_type="application/json"))
    except RuntimeError:  # the server does not support denial responses
        await websocket.close(code=1008, reason=message[:120])
