"""The HTTP API for editor plugins (``engram serve``): FastAPI under ``/v1``.

``create_app(ServerSettings(...), token)`` builds the app; ``serve(settings)`` runs it on
loopback with uvicorn. Sessions, tasks and a resumable event stream live in
``agent.api.manager``; the event log in ``agent.api.eventlog``.
"""

from __future__ import annotations

from agent.api.settings import ServerSettings

__all__ = ["ServerSettings"]
