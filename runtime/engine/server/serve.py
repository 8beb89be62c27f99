"""Run the server with uvicorn on a socket we bind first (so a busy port fails fast and clearly)."""

from __future__ import annotations

import errno
import socket

import uvicorn

from runtime.engine.engine import Engine
from runtime.engine.engine_loop import EngineLoop
from runtime.engine.errors import EngineError
from runtime.engine.server.app import create_app
from runtime.engine.settings import EngineSettings, resolve_device, resolve_dtype


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port; :class:`EngineError` if the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EngineError(
                f"port {port} on {host} is already in use (another server running?); choose another with --port"
            ) from None
        raise EngineError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(model_ref: str, host: str = "127.0.0.1", port: int = 8000,
          settings: EngineSettings | None = None, log_level: str = "info") -> None:
    """Load ``model_ref`` and serve it until interrupted."""
    settings = settings or EngineSettings()
    resolve_dtype(settings.dtype, resolve_device(settings.device))  # bad options fail before the port is taken
    sock = bind_socket(host, port)
    try:
        loop = EngineLoop(Engine.load(model_ref, settings)).start()
        try:
            config = uvicorn.Config(create_app(loop), log_level=log_level, timeout_graceful_shutdown=5)
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            loop.stop()
    finally:
        sock.close()
