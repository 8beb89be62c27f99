"""Running the app with uvicorn: loopback only unless remote access is asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvicorn

from agent.api.app import create_app
from agent.api.auth import load_or_create_token, token_path
from agent.api.settings import ServerSettings, is_loopback


class ServerRefused(Exception):
    """Settings the server will not run with; the message says what to change."""


def check_bind(settings: ServerSettings) -> None:
    """Refuse a non-loopback address without ``allow_remote``."""
    if not is_loopback(settings.host) and not settings.allow_remote:
        raise ServerRefused(f"{settings.host} is not a loopback address; the API is loopback-only "
                            f"unless --allow-remote is given (the token is then required from "
                            f"every client; put TLS in front of it)")
    for root in settings.allowed_roots():
        if not root.is_dir():
            raise ServerRefused(f"--root {root}: no such folder")


def serve(settings: ServerSettings, *, on_ready: Callable[[str, int], None] | None = None) -> None:
    """Run until interrupted; ``on_ready(host, port)`` once the socket listens."""
    check_bind(settings)
    token = load_or_create_token()
    app = create_app(settings, token)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                            lifespan="on", timeout_graceful_shutdown=5, ws="websockets-sansio")
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started and on_ready is not None:
            sock = server.servers[0].sockets[0]
            on_ready(settings.host, int(sock.getsockname()[1]))
        await task

    asyncio.run(main())


__all__ = ["ServerRefused", "check_bind", "serve", "token_path"]
