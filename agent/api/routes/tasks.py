"""A session's task: prompt (start), approve/reject, cancel, resume, undo, diff."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from fastapi import APIRouter, Depends, status

from agent.api.manager import SessionBusy, SessionManager
from agent.api.routes.deps import manager
from agent.api.routes.sessions import view
from agent.api.schemas import ApprovalBody, DiffView, PromptBody, SessionView, UndoView

router = APIRouter(prefix="/sessions/{session_id}", tags=["tasks"])


@router.post("/prompt", status_code=status.HTTP_202_ACCEPTED, response_model=SessionView)
async def prompt(session_id: str, body: PromptBody,
                 mgr: SessionManager = Depends(manager)) -> SessionView:
    """Start a task; follow it on ``/events``. 409 while another task runs."""
    mgr.prompt(session_id, body.text, pinned=body.pinned)
    return view(mgr, session_id)


@router.post("/resume", status_code=status.HTTP_202_ACCEPTED, response_model=SessionView)
async def resume(session_id: str, mgr: SessionManager = Depends(manager)) -> SessionView:
    """Continue a task the server was stopped in, from its last checkpoint."""
    mgr.resume(session_id)
    return view(mgr, session_id)


@router.post("/approvals/{request_id}/approve", response_model=SessionView)
async def approve(session_id: str, request_id: str, body: ApprovalBody | None = None,
                  mgr: SessionManager = Depends(manager)) -> SessionView:
    mgr.answer(session_id, request_id, True, body.note if body else "",
               rejected_hunks=body.rejected_hunks if body else None)
    return view(mgr, session_id)


@router.post("/approvals/{request_id}/reject", response_model=SessionView)
async def reject(session_id: str, request_id: str, body: ApprovalBody | None = None,
                 mgr: SessionManager = Depends(manager)) -> SessionView:
    mgr.answer(session_id, request_id, False, body.note if body else "")
    return view(mgr, session_id)


@router.post("/cancel", response_model=SessionView)
async def cancel(session_id: str, mgr: SessionManager = Depends(manager)) -> SessionView:
    """Stop the running task (what it applied stays; undo it with ``/undo``)."""
    if not await mgr.cancel(session_id):
        raise SessionBusy("no task is running in this session")
    return view(mgr, session_id)


@router.post("/undo", response_model=UndoView)
async def undo(session_id: str, mgr: SessionManager = Depends(manager)) -> UndoView:
    """Put the files back as they were before the agent's last action in this repository."""
    record = mgr.get(session_id)
    if mgr.running(session_id):
        raise SessionBusy("a task is running; cancel it before undoing")
    async with mgr.repo_lock(record.root):
        result = await asyncio.to_thread(_undo_last, Path(record.root))
    return result


@router.get("/diff", response_model=DiffView)
async def diff(session_id: str, mgr: SessionManager = Depends(manager)) -> DiffView:
    record = mgr.get(session_id)
    runner = mgr.runners.get(session_id)
    pending = [{"request_id": e.request_id, "kind": e.kind, "summary": e.summary, "diff": e.detail}
               for e in (runner.waiting.values() if runner else [])]
    return DiffView(pending=pending, working_tree=await asyncio.to_thread(_git_diff, Path(record.root)))


def _undo_last(root: Path) -> UndoView:
    from agent.undo import UndoError, UndoStore

    try:
        result = UndoStore.open(root).undo_last()
    except UndoError as exc:
        raise SessionBusy(str(exc)) from None
    if result is None:
        return UndoView(undone=False)
    return UndoView(undone=True, point=result.point.id, label=result.point.label,
                    files=[c.path for c in result.changes])


def _git_diff(root: Path) -> str:
    proc = subprocess.run(["git", "diff", "HEAD", "--no-color", "--no-ext-diff"], cwd=root,
                          capture_output=True, text=True, timeout=30, check=False)
    return proc.stdout if proc.returncode == 0 else ""
