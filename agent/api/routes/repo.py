"""Reading the repository: files (confined to it) and search (the indexer)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from agent.api.manager import SessionManager
from agent.api.paths import PathRefused, confine
from agent.api.routes.deps import manager
from agent.api.schemas import FileView

router = APIRouter(prefix="/sessions/{session_id}", tags=["repository"])


@router.get("/files", response_model=FileView)
async def read_file(session_id: str, request: Request, path: str = Query(..., max_length=4096),
                    mgr: SessionManager = Depends(manager)) -> FileView:
    """A text file of the repository. Paths outside it (``..``, absolute, symlinks out) and
    secret files (``.env``, keys) are refused with 403."""
    from agent.config import load_settings
    from indexer.secrets import SecretFilter

    root = Path(mgr.get(session_id).root)
    target = confine(root, path)
    rel = target.relative_to(root.resolve()).as_posix()
    if rel.split("/")[0] in (".git", ".engram"):
        raise PathRefused(f"{path!r} is Engram's or git's own state")
    if SecretFilter(load_settings(root).index.secret_patterns).is_secret(rel):
        raise PathRefused(f"{path!r} looks like a secret file")
    if not target.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {path!r} in the repository")
    limit = request.app.state.settings.max_file_bytes
    size = target.stat().st_size
    if size > limit:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{path!r} has {size} bytes; the limit is {limit}")
    try:
        text = target.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{path!r} is not UTF-8 text") from None
    return FileView(path=rel, size=size, content=text)


@router.get("/search")
async def search(session_id: str, q: str = Query(..., min_length=1, max_length=1000),
                 k: int = Query(10, ge=1, le=100),
                 mgr: SessionManager = Depends(manager)) -> list[dict[str, Any]]:
    """Definitions and files matching ``q`` (the indexer, refreshed first)."""
    record = mgr.get(session_id)
    return await asyncio.to_thread(_search, Path(record.root), q, k)


def _search(root: Path, query: str, k: int) -> list[dict[str, Any]]:
    from agent.config import load_settings
    from indexer import Index

    with Index.open(root, load_settings(root).index) as index:
        index.refresh()
        return [hit.to_dict() for hit in index.search(query, k=k)]
