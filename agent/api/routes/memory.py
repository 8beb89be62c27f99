"""The project's Engram memory: list, add, edit, forget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, status

from agent.api.manager import SessionManager
from agent.api.routes.deps import manager
from agent.api.schemas import MemoryAdd, MemoryEdit

router = APIRouter(prefix="/sessions/{session_id}/memory", tags=["memory"])
T = TypeVar("T")


async def _with_store(mgr: SessionManager, session_id: str, work: Callable[[Any], T]) -> T:
    root = Path(mgr.get(session_id).root)

    def run() -> T:
        from agent.config import load_settings
        from agent.memory import MemoryStore

        with MemoryStore.open(root, load_settings(root).memory) as store:
            return work(store)

    return await asyncio.to_thread(run)


@router.get("")
async def list_memory(session_id: str, kind: str | None = None,
                      mgr: SessionManager = Depends(manager)) -> list[dict[str, Any]]:
    return await _with_store(mgr, session_id,
                             lambda s: [e.to_dict() for e in s.list(kind=kind)])


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_memory(session_id: str, body: MemoryAdd,
                     mgr: SessionManager = Depends(manager)) -> dict[str, Any]:
    return await _with_store(mgr, session_id, lambda s: s.remember(
        body.text, body.kind, source="user", pinned=body.pinned).to_dict())


@router.patch("/{entry_id}")
async def edit_memory(session_id: str, entry_id: int, body: MemoryEdit,
                      mgr: SessionManager = Depends(manager)) -> dict[str, Any]:
    def work(store: Any) -> dict[str, Any]:
        entry = store.get(entry_id)
        if body.text is not None or body.kind is not None:
            entry = store.edit(entry_id, body.text, kind=body.kind)
        if body.pinned is not None:
            entry = store.pin(entry_id, body.pinned)
        return entry.to_dict()

    return await _with_store(mgr, session_id, work)


@router.delete("/{entry_id}")
async def forget_memory(session_id: str, entry_id: int,
                        mgr: SessionManager = Depends(manager)) -> dict[str, Any]:
    return await _with_store(mgr, session_id, lambda s: s.forget(entry_id).to_dict())
