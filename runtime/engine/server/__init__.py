"""OpenAI-compatible HTTP server over the engine (FastAPI)."""

from runtime.engine.server.app import create_app
from runtime.engine.server.serve import bind_socket, serve

__all__ = ["bind_socket", "create_app", "serve"]
