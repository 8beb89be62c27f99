"""Dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from agent.api.manager import SessionManager


def manager(request: Request) -> SessionManager:
    """The server's session manager."""
    return request.app.state.manager
