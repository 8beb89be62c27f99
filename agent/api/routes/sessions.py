"""Sessions: create for a repository under an allowed root, list, get, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from agent.api.manager import SessionManager
from agent.api.routes.deps import manager
from agent.api.schemas import CreateSession, SessionView

router = APIRouter(prefix="/sessions", tags=["sessions"])


def view(mgr: SessionManager, session_id: str) -> SessionView:
    record = mgr.get(session_id)
    runner = mgr.runners.get(session_id)
    waiting = [e.model_dump() for e in runner.waiting.values()] if runner else []
    return SessionView(session=record, running=mgr.running(session_id),
                       last_seq=mgr.log.last_seq(session_id), waiting=waiting)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionView)
async def create_session(body: CreateSession, mgr: SessionManager = Depends(manager)) -> SessionView:
    """Open a session on a repository (it must lie under one of the server's roots)."""
    record = mgr.create(body.root, body.policy, body.model, body.mcp_servers)
    return view(mgr, record.id)


@router.get("", response_model=list[SessionView])
async def list_sessions(mgr: SessionManager = Depends(manager)) -> list[SessionView]:
    return [view(mgr, r.id) for r in mgr.list()]


@router.get("/{session_id}", response_model=SessionView)
async def get_session(session_id: str, mgr: SessionManager = Depends(manager)) -> SessionView:
    return view(mgr, session_id)


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(session_id: str, mgr: SessionManager = Depends(manager)) -> None:
    """Stop its task (if any) and forget the session and its events (files stay as they are)."""
    await mgr.delete(session_id)
