"""The Engram terminal app (Textual). ``EngramApp(root, settings).run()``."""

from __future__ import annotations

from tui.app.app import EngramApp

__all__ = ["EngramApp"]
