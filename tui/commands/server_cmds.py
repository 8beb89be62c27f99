"""Commands of this group; filled in by the issue that builds the component."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
